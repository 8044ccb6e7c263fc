"""``flask scan``: compare the whole portfolio and judge every system by the rules."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from registry import db


@click.command("scan")
@click.option(
    "--min-score", type=click.FloatRange(0, 1), default=None, help="Warning threshold (default 0.6)."
)
@with_appcontext
def scan_command(min_score: float | None) -> None:
    """Compare the whole portfolio and store the duplication warnings, then check the rules R1–R10."""
    from registry.services.findings import refresh_portfolio
    from registry.services.overlaps import WARNING_THRESHOLD, scan_portfolio

    with db.command_session() as session, click.progressbar(length=1, label="Comparing systems") as bar:

        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = scan_portfolio(
            session, min_score=WARNING_THRESHOLD if min_score is None else min_score, progress=advance
        )
    click.echo(report.summary())
    with db.command_session() as session, click.progressbar(length=1, label="Checking the rules") as bar:

        def advance_rules(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        findings = refresh_portfolio(session, progress=advance_rules)
    click.echo(f"{findings} rule findings (R1–R10) across the portfolio.")
