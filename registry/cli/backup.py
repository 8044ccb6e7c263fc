"""``flask backup PATH`` and ``flask restore PATH``: the whole database, checked against a manifest.

See :mod:`registry.services.backup` for what a backup holds and ``docs/backup.md`` for the
procedure around it (stopping the workers before a restore, PostgreSQL's own tools).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from registry import db


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the database into the new directory PATH, with a manifest of every table.

    Safe while the app runs. SQLite is copied with its online backup API, PostgreSQL with
    pg_dump (which must be installed); uploaded import files are in the database, so they come
    with it.
    """
    from registry.services.backup import BackupError, backup

    try:
        manifest = backup(db.get_engine(), path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Backup written to {path}: {manifest.summary()}.")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that already holds tables.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Replace the database with the backup in PATH, and check every table against its manifest.

    Stop the web and queue workers first. Refuses a database that already holds tables
    unless --force. Run `audit verify` afterwards to check the restored audit trail.
    """
    from registry.services.backup import BackupError, restore

    try:
        manifest = restore(db.get_engine(), path, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Restored from {path} and checked: {manifest.summary()}.")
