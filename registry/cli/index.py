"""``flask index``: build the overlap index snapshot that every web worker maps at start."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from registry import db


@click.group("index")
def index_group() -> None:
    """The overlap index shared by the web workers."""


@index_group.command("build")
@click.option("--queue", "queued", is_flag=True, help="Queue the build as a background job instead.")
@with_appcontext
def build_command(queued: bool) -> None:
    """Fit the overlap index of the whole portfolio and save it as the newest snapshot.

    Workers started afterwards map it in seconds instead of fitting their own; running workers
    keep theirs. Run it after a large import, or nightly, so workers have less to catch up.
    """
    from registry.services.index_snapshot import build_snapshot, index_dir, start_build

    if queued:
        with db.command_session() as session:
            job, new = start_build(session)
        click.echo(f"Build queued as job {job.id}." if new else f"A build is already queued: job {job.id}.")
        return
    with db.command_session() as session:
        report = build_snapshot(session, index_dir(current_app))
    click.echo(report.summary())


@index_group.command("status")
@with_appcontext
def status_command() -> None:
    """Say which snapshot workers will load and how far the database has moved since."""
    from registry.services.index_snapshot import index_dir, snapshot_status

    with db.command_session() as session:
        status = snapshot_status(session, index_dir(current_app))
    if status.path is None:
        raise click.ClickException(f"no usable snapshot in {index_dir(current_app)}: {status.problem}")
    click.echo(
        f"{status.path.name}: {status.systems} systems, built {status.created_at}; "
        f"{status.changed} systems saved since (caught up by each worker at start)."
    )
