"""``flask --app app …`` commands for the work done outside the browser."""

from __future__ import annotations

from contextlib import contextmanager

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlmodel import Session

from registry import db, migrate
from registry.auth.actor import Actor
from registry.auth.passwords import PasswordHasher
from registry.choices import Role
from registry.errors import ValidationError
from registry.models import Agency, User

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

    with db.command_session() as session:
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

    with db.command_session() as session:
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

    with db.command_session() as session:
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


export_group = AppGroup("export", help="Take the inventory, decisions, warnings or audit trail out.")
OUTPUT = click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), required=True, help="File to write."
)
PERIOD = (
    click.option("--since", default="", help="First day (YYYY-MM-DD, UTC)."),
    click.option("--until", default="", help="Last day (YYYY-MM-DD, UTC), included."),
)


@export_group.command("systems")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "xlsx", "json", "publiccode", "backstage"]),
    default="csv",
    show_default=True,
)
@OUTPUT
@click.option(
    "--filter",
    "query",
    default="",
    help='The list page\'s query string, e.g. "status=in_operation&level=province".',
)
@click.option(
    "--as-of", "as_of", default="", help="Rebuild the inventory as it stood then: YYYY-MM-DD[THH:MM]."
)
@click.option(
    "--base-url",
    default="http://localhost:5000",
    show_default=True,
    help="The registry's address, for the links to each system (publiccode.yml, Backstage).",
)
def export_systems(fmt: str, output: str, query: str, as_of: str, base_url: str) -> None:
    """Export the systems matching the filter, with a progress bar."""
    from urllib.parse import parse_qsl

    from werkzeug.datastructures import MultiDict

    from registry.exports import as_of as past
    from registry.exports import ecosystem, inventory
    from registry.filters import parse_filter
    from registry.services import exports

    instant = past.parse_instant(as_of) if as_of else None
    if as_of and instant is None:
        raise click.BadParameter("expected YYYY-MM-DD or YYYY-MM-DDTHH:MM", param_hint="--as-of")
    if instant is not None and fmt in ecosystem.FORMATS:
        raise click.BadParameter(
            "publiccode.yml and Backstage describe systems as they are now", param_hint="--as-of"
        )
    actor = Actor.operator("cli")
    with db.command_session() as session:
        parsed = parse_filter(MultiDict(parse_qsl(query)))
        for problem in parsed.problems:
            click.echo(f"Ignored: {problem}", err=True)
        scope = exports.scope_for(actor, parsed.filter)
        meta = exports.begin(session, actor, fmt, scope, as_of=instant)
        if fmt in ecosystem.FORMATS:
            with _progress(meta) as advance, open(output, "wb") as handle:
                writer = ecosystem.FORMATS[fmt].writer
                for chunk in writer(
                    session, meta, inventory.rows(session, scope), base_url=base_url, progress=advance
                ):
                    handle.write(chunk)
            click.echo(f"{meta.count} systems written to {output}.")
            return
        if instant is None:
            rows, sheets = inventory.rows(session, scope), exports.related_sheets(session, scope)
        else:
            rows, sheets = past.rows(session, exports.as_of_scope(scope, instant)), []
        _write(output, fmt, meta, rows, inventory.COLUMNS, sheets)


@export_group.command("decisions")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True)
@OUTPUT
@PERIOD[0]
@PERIOD[1]
@click.option("--status", multiple=True, help="approve, request_changes or reject (repeatable).")
def export_decisions(fmt: str, output: str, since: str, until: str, status: tuple[str, ...]) -> None:
    """Export the reviewers' decisions, oldest first, with a progress bar."""
    _export_records("decisions", fmt, output, {"since": since, "until": until, "status": list(status)})


@export_group.command("warnings")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default="csv", show_default=True)
@OUTPUT
@PERIOD[0]
@PERIOD[1]
@click.option("--status", multiple=True, help="A disposition, e.g. open or dismissed (repeatable).")
def export_warnings(fmt: str, output: str, since: str, until: str, status: tuple[str, ...]) -> None:
    """Export the duplication warnings with their dispositions, with a progress bar."""
    _export_records("warnings", fmt, output, {"since": since, "until": until, "status": list(status)})


def _export_records(kind: str, fmt: str, output: str, args: dict[str, object]) -> None:
    from werkzeug.datastructures import MultiDict

    from registry.exports import records
    from registry.services import exports

    actor = Actor.operator("cli")
    rows, columns = {
        "decisions": (records.decision_rows, records.DECISION_COLUMNS),
        "warnings": (records.warning_rows, records.WARNING_COLUMNS),
    }[kind]
    with db.command_session() as session:
        flt = exports.record_filter_for(actor, MultiDict(args))
        meta = exports.begin_records(session, actor, kind, fmt, flt)
        _write(output, fmt, meta, rows(session, flt), columns, [])


@export_group.command("audit-trail")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="jsonl", show_default=True)
@OUTPUT
@PERIOD[0]
@PERIOD[1]
def export_audit_trail(fmt: str, output: str, since: str, until: str) -> None:
    """Export the audit trail with its chain hashes (see docs/audit-trail.md to verify it)."""
    from registry.exports import records, trail
    from registry.exports.formats import csv_chunks
    from registry.services import exports

    start, end = records.RecordFilter.parse({"since": since, "until": until}).bounds()
    actor = Actor.operator("cli")
    with db.command_session() as session:
        meta, span = exports.begin_trail(session, actor, fmt, start, end)
        with _progress(meta) as advance, open(output, "wb") as handle:
            events = trail.rows(session, span)
            chunks = (
                trail.jsonl_chunks(meta, span, events, advance)
                if fmt == "jsonl"
                else csv_chunks(meta, trail.csv_cells(events), advance, columns=trail.COLUMNS)
            )
            for chunk in chunks:
                handle.write(chunk)
    click.echo(f"{meta.count} events written to {output}.")


def _write(output: str, fmt: str, meta, rows, columns, sheets) -> None:  # type: ignore[no-untyped-def]
    from registry.exports.formats import csv_chunks, json_chunks, write_xlsx

    with _progress(meta) as advance, open(output, "wb") as handle:
        if fmt == "xlsx":
            with write_xlsx(meta, rows, sheets, advance, columns=columns) as book:
                while block := book.read(1024 * 1024):
                    handle.write(block)
        else:
            for chunk in (csv_chunks if fmt == "csv" else json_chunks)(meta, rows, advance, columns=columns):
                handle.write(chunk)
    click.echo(f"{meta.count} {meta.unit} written to {output}.")


@contextmanager
def _progress(meta):  # type: ignore[no-untyped-def]
    with click.progressbar(length=max(meta.count, 1), label=f"Exporting {meta.count} {meta.unit}") as bar:
        yield lambda done: bar.update(done - bar.pos)


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


audit_group = AppGroup("audit", help="Check the audit trail.")


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit with status 1 at the first broken link."""
    from registry.services.audit import verify

    with db.command_session() as session:
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
    app.cli.add_command(import_group)
