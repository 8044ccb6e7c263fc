"""``flask doctor``: check configuration, schema, index, queue and secrets, and say what to fix."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from registry import db
from registry.jobs import queue_of
from registry.services.doctor import Level, diagnose, worst
from registry.services.overlaps import portfolio_index

COLOURS = {Level.OK: "green", Level.WARN: "yellow", Level.FAIL: "red"}


@click.command("doctor")
@click.option(
    "--fit-index",
    is_flag=True,
    help="Also build the overlap index once and time it, as each web worker does at its first check.",
)
@with_appcontext
def doctor_command(fit_index: bool) -> None:
    """Check this installation; exit status 1 if any check FAILs (WARN is a nudge, not a failure)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with Session(db.get_engine()) as session:
        findings = diagnose(
            app.config,
            session,
            instance_path=app.instance_path,
            index=portfolio_index(),
            queue=queue_of(app).huey.storage,
            fit_index=fit_index,
        )
    width = max(len(finding.name) for finding in findings)
    for finding in findings:
        level = click.style(f"{finding.level.value:<4}", fg=COLOURS[finding.level], bold=True)
        click.echo(f"{level} {finding.name:<{width}}  {finding.summary}")
        if finding.fix and finding.level != Level.OK:
            click.echo(f"     {'':<{width}}  fix: {finding.fix}")
    counts = {level: sum(f.level == level for f in findings) for level in Level}
    click.echo(f"{counts[Level.OK]} OK, {counts[Level.WARN]} WARN, {counts[Level.FAIL]} FAIL")
    if worst(findings) == Level.FAIL:
        raise SystemExit(1)
