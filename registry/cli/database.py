"""``flask db …``: create or upgrade the schema, and load the demo portfolio."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from registry import db, migrate
from registry.web.access import password_hasher

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
    """Load the demo portfolio (idempotent: records already present are left alone).

    Demo accounts come with it, except in production, where they are never created.
    """
    from flask import current_app

    from registry.services.seed import SeedError, load_seed

    engine = db.get_engine()
    if migrate.is_empty(engine):
        migrate.upgrade(engine)
    with db.command_session(engine) as session:
        try:
            report = load_seed(
                session,
                demo_users=current_app.config["REGISTRY_ENV"] != "production",
                hasher=password_hasher(),
            )
        except SeedError as exc:
            for problem in exc.problems:
                click.echo(problem, err=True)
            raise click.ClickException(f"{len(exc.problems)} problem(s); nothing was loaded.") from exc
        click.echo(report.summary())
        if report.created.get("systems"):
            from registry.services.overlaps import scan_portfolio

            click.echo("Overlap scan: " + scan_portfolio(session).summary())
