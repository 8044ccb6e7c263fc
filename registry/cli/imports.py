"""``flask import systems``: preview a file, and with ``--commit`` import it whole."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from registry import db
from registry.auth.actor import Actor

import_group = AppGroup("import", help="Bring systems in from a file (preview, then --commit).")


@import_group.command("systems")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", default=None, help="csv, xlsx, json… (default: from the file name)")
@click.option("--commit", "do_commit", is_flag=True, help="Write the import; without it, only preview.")
@click.option(
    "--default-owner",
    "default_owner",
    default=None,
    metavar="CODE",
    help="Agency code given to rows that name no managing agency (with its level if they give none).",
)
def import_systems(path: str, fmt: str | None, do_commit: bool, default_owner: str | None) -> None:
    """Preview an import and, with --commit, write it all or nothing (as the server's operator)."""
    from pathlib import Path

    from flask_babel import force_locale

    from registry.interchange.source import UnreadableFileError
    from registry.services import imports

    actor = Actor.operator("import")
    data = Path(path).read_bytes()
    # The command line speaks English, like its other messages; the pages speak the reader's language.
    with db.command_session() as session, force_locale("en"):
        try:
            plan = imports.plan_import(
                session, actor, Path(path).name, data, fmt=fmt, default_owner=default_owner
            )
        except UnreadableFileError as exc:
            raise click.ClickException(str(exc.message)) from None
        counts = plan.counts
        click.echo(
            f"{len(plan.rows)} systems read: {counts[imports.Action.CREATE]} to create, "
            f"{counts[imports.Action.UPDATE]} to update, {counts[imports.Action.UNCHANGED]} unchanged, "
            f"{counts[imports.Action.REFUSED]} refused; {len(plan.new_agencies)} new agencies."
        )
        if plan.default_owner:
            click.echo(f"{plan.defaulted} rows took the default managing agency {plan.default_owner}.")
        problems = plan.problems()
        for where, column, message in problems[:100]:
            click.echo(f"  {where}: {column or '-'}: {message}", err=True)
        if len(problems) > 100:
            click.echo(f"  … and {len(problems) - 100} more problems.", err=True)
        if problems:
            raise click.ClickException("The file has problems; nothing was imported.")
        if not do_commit:
            click.echo("Preview only; run again with --commit to import.")
            return
        total = counts[imports.Action.CREATE] + counts[imports.Action.UPDATE]
        with click.progressbar(length=max(total, 1), label=f"Importing {total} systems") as bar:

            def advance(done: int, _total: int) -> None:
                bar.update(done - bar.pos)

            result = imports.commit_import(session, actor, Path(path).name, data, plan=plan, progress=advance)
    click.echo(f"Imported: {result.created} created, {result.updated} updated, {result.unchanged} unchanged.")
