"""``flask export …``: the inventory, decisions, warnings and audit trail, to files."""

from __future__ import annotations

from contextlib import contextmanager

import click
from flask.cli import AppGroup

from registry import db
from registry.auth.actor import Actor

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
