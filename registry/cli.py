"""``flask --app app …`` commands for the work done outside the browser."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlmodel import Session

from registry import db, migrate
from registry.auth.actor import Actor
from registry.auth.passwords import PasswordHasher
from registry.choices import Role
from registry.models import Agency, User
from registry.services.errors import ValidationError

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
    with Session(engine) as session:
        try:
            report = load_seed(
                session,
                demo_users=current_app.config["REGISTRY_ENV"] != "production",
                hasher=_hasher(),
            )
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
    """Compare the whole portfolio and store the duplication warnings, then check the rules R1–R10."""
    from registry.services.findings import refresh_portfolio
    from registry.services.overlaps import WARNING_THRESHOLD, scan_portfolio

    with Session(db.get_engine()) as session, click.progressbar(length=1, label="Comparing systems") as bar:

        def advance(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        report = scan_portfolio(
            session, min_score=WARNING_THRESHOLD if min_score is None else min_score, progress=advance
        )
    click.echo(report.summary())
    with Session(db.get_engine()) as session, click.progressbar(length=1, label="Checking the rules") as bar:

        def advance_rules(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        findings = refresh_portfolio(session, progress=advance_rules)
    click.echo(f"{findings} rule findings (R1–R10) across the portfolio.")


users_group = AppGroup("users", help="Manage accounts from the server (the first administrator).")


def _hasher() -> PasswordHasher:
    from flask import current_app

    return PasswordHasher(current_app.config.get("PASSWORD_HASH_PROFILE", "default"))


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "full_name", required=True, help="The person's full name.")
@click.option("--agency", "agency_code", default=None, help="Agency code (required for submitters).")
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def users_create(username: str, role: str, full_name: str, agency_code: str | None, password: str) -> None:
    """Create an account, e.g. the first administrator."""
    from registry.services.users import UserInput, create_user

    with Session(db.get_engine()) as session:
        agency_id = _agency_id(session, agency_code)
        data = UserInput(
            username=username, full_name=full_name, role=role, agency_id=agency_id, password=password
        )
        try:
            user = create_user(session, data, actor=Actor.operator("cli"), hasher=_hasher())
        except ValidationError as exc:
            raise click.ClickException(_problems(exc)) from exc
        click.echo(f"Account {user.username} ({user.role}) created.")


@users_group.command("set-password")
@click.argument("username")
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def users_set_password(username: str, password: str) -> None:
    """Set a new password (and sign the account out everywhere), e.g. for a locked-out admin."""
    from registry.services.users import UserInput, update_user, username_key

    with Session(db.get_engine()) as session:
        user = session.scalar(select(User).where(User.username == username_key(username)))
        if user is None:
            raise click.ClickException(f"No account is named {username}.")
        data = UserInput(
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            agency_id=user.agency_id,
            is_active=user.is_active,
            password=password,
        )
        try:
            update_user(
                session,
                user,
                data,
                actor=Actor.operator("cli"),
                hasher=_hasher(),
                expected_version=user.version,
            )
        except ValidationError as exc:
            raise click.ClickException(_problems(exc)) from exc
        click.echo(f"Password of {user.username} changed.")


@users_group.command("list")
def users_list() -> None:
    """List accounts: username, role, agency, state."""
    from registry.services.users import list_users

    with Session(db.get_engine()) as session:
        for user in list_users(session):
            agency = user.agency.code if user.agency else "-"
            state = "active" if user.is_active else "deactivated"
            click.echo(f"{user.username}\t{user.role}\t{agency}\t{state}{'  (demo)' if user.is_demo else ''}")


def _agency_id(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    agency_id = session.scalar(select(Agency.id).where(Agency.code == code))
    if agency_id is None:
        raise click.ClickException(f"No agency has the code {code}.")
    return agency_id


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in exc.errors.items())


export_group = AppGroup(
    "export", help="Take the inventory out (CSV, XLSX, JSON, publiccode.yml, Backstage catalog)."
)


@export_group.command("systems")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json", "publiccode", "backstage"]),
    default="csv",
    show_default=True,
)
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="File to write."
)
@click.option(
    "--filter",
    "query",
    default="",
    help='The list page\'s query string, e.g. "status=in_operation&level=province".',
)
@click.option(
    "--base-url",
    default="http://localhost:5000",
    show_default=True,
    help="The registry's address, for the links to each system (publiccode.yml, Backstage).",
)
def export_systems(fmt: str, output: str, query: str, base_url: str) -> None:
    """Export the systems matching the filter, with a progress bar."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from registry.exports import ecosystem, inventory
    from registry.exports.formats import csv_chunks, json_chunks, write_xlsx
    from registry.filters import parse_filter
    from registry.services import exports

    actor = Actor.operator("cli")
    with Session(db.get_engine()) as session:
        parsed = parse_filter(MultiDict(parse_qsl(query)))
        for problem in parsed.problems:
            click.echo(f"Ignored: {problem}", err=True)
        scope = exports.scope_for(actor, parsed.filter)
        meta = exports.begin(session, actor, fmt, scope)
        with click.progressbar(length=max(meta.count, 1), label=f"Exporting {meta.count} systems") as bar:

            def advance(done: int) -> None:
                bar.update(done - bar.pos)

            rows = inventory.rows(session, scope)
            with open(output, "wb") as handle:
                if fmt in ecosystem.FORMATS:
                    writer = ecosystem.FORMATS[fmt].writer
                    for chunk in writer(session, meta, rows, base_url=base_url, progress=advance):
                        handle.write(chunk)
                elif fmt == "xlsx":
                    with write_xlsx(meta, rows, exports.related_sheets(session, scope), advance) as book:
                        while block := book.read(1024 * 1024):
                            handle.write(block)
                else:
                    for chunk in (csv_chunks if fmt == "csv" else json_chunks)(meta, rows, advance):
                        handle.write(chunk)
    click.echo(f"{meta.count} systems written to {output}.")


audit_group = AppGroup("audit", help="Check the audit trail.")


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit with status 1 at the first broken link."""
    from registry.services.audit import verify

    with Session(db.get_engine()) as session:
        report = verify(session)
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_command)
    app.cli.add_command(scan_command)
    app.cli.add_command(users_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(export_group)
