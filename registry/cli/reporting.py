"""``flask reporting remind``: remind the agencies not done in open rounds (for cron), and
``flask reporting import-usage``: file usage reports from a CSV or XLSX file."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from registry import db
from registry.auth.actor import Actor

reporting_group = AppGroup("reporting", help="Reporting rounds: reminders, usage imports.")


@reporting_group.command("remind")
@click.option(
    "--round", "round_id", type=int, default=None, help="Only this round (default: every open one)."
)
def remind(round_id: int | None) -> None:
    """Notify the accounts of every agency that has not completed its part; at most once a day."""
    from registry.services.reporting import send_reminders

    with db.command_session() as session:
        report = send_reminders(session, actor=Actor.operator("reporting remind"), round_id=round_id)
    click.echo(report.summary())


@reporting_group.command("import-usage")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--commit", "do_commit", is_flag=True, help="Write the reports; without it, only preview.")
def import_usage(path: str, do_commit: bool) -> None:
    """Preview a usage file (system code, period, figures) and, with --commit, file it all or nothing."""
    from pathlib import Path

    from flask_babel import force_locale

    from registry.interchange.source import UnreadableFileError
    from registry.services import usage_import

    actor = Actor.operator("import-usage")
    data = Path(path).read_bytes()
    with db.command_session() as session, force_locale("en"):
        try:
            plan = usage_import.plan_usage_import(session, actor, Path(path).name, data)
        except UnreadableFileError as exc:
            raise click.ClickException(str(exc.message)) from None
        click.echo(
            f"{len(plan.rows)} reports read: {plan.new} new, {plan.corrections} corrections, "
            f"{plan.unchanged} unchanged, {plan.refused} refused."
        )
        for where, column, message in plan.problems[:100]:
            click.echo(f"  {where}: {column or '-'}: {message}", err=True)
        if plan.problems:
            raise click.ClickException("The file has problems; nothing was imported.")
        if not do_commit:
            click.echo("Preview only; run again with --commit to import.")
            return
        filed = usage_import.commit_usage_import(session, actor, plan)
    click.echo(f"Filed: {filed} reports.")
