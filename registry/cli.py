"""``flask --app app …`` commands for the work done outside the browser."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlmodel import Session

from registry import db, migrate

db_group = AppGroup("db", help="Create or upgrade the database schema.")


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (creates the schema on an empty database)."""
    engine = db.get_engine()
    before = migrate.current_revision(engine)
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    click.echo(f"Schema at revision {after} (was {before or 'empty'}).")


@db_group.command("current")
def db_current() -> None:
    """Print the schema revision of the database and the newest one available."""
    engine = db.get_engine()
    click.echo(f"database: {migrate.current_revision(engine) or 'empty'}; newest: {migrate.head_revision()}")


@click.command("seed")
@with_appcontext
def seed_command() -> None:
    """Load the demo portfolio (idempotent: records already present are left alone)."""
    from registry.services.seed import SeedError, load_seed

    engine = db.get_engine()
    if migrate.is_empty(engine):
        migrate.upgrade(engine)
    with Session(engine) as session:
        try:
            report = load_seed(session)
        except SeedError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            raise click.ClickException(f"{len(exc.problems)} problem(s); nothing was loaded.") from exc
        click.echo(report.summary())
        if report.created.get("systems"):
            from registry.services.overlaps import scan_portfolio

            click.echo("Overlap scan: " + scan_portfolio(session).summary())


@click.command("scan")
@click.option(
    "--min-score", type=click.FloatRange(0, 1), default=None, help="Warning threshold (default 0.6)."
)
@with_appcontext
def scan_command(min_score: float | None) -> None:
    """Compare the whole portfolio and store the duplication warnings it finds."""
    from registry.services.overlaps import WARNING_THRESHOLD, scan_portfolio

    with Session(db.get_engine()) as session, click.progressbar(length=1, label="Comparing systems") as bar:

        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = scan_portfolio(
            session, min_score=WARNING_THRESHOLD if min_score is None else min_score, progress=advance
        )
    click.echo(report.summary())


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_command)
    app.cli.add_command(scan_command)
