"""The inventory as flat rows, read in batches so that 100,000 systems take flat memory.

Every format writes the same columns in the same order (``COLUMNS``), so a CSV, an XLSX sheet
and a JSON array hold the same data and an import can read any of them back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import aliased
from sqlmodel import Session

from registry.exports.prefetch import prefetched
from registry.filters import SystemFilter, filter_conditions, sort_order
from registry.models import (
    Agency,
    Capability,
    DataDomain,
    InformationSystem,
    SystemCapabilityLink,
    SystemDataDomainLink,
    SystemUserAgencyLink,
)
from registry.models.system import DATE_FIELDS, RECORD_COLUMNS

BATCH = 5000
LIST_SEPARATOR = "; "
"""Several values in one cell (user agencies, capabilities) are codes joined by this."""

COLUMNS: tuple[str, ...] = (
    "code",
    *(
        c
        for column in RECORD_COLUMNS
        for c in ((column, "owner_agency_name") if column == "owner_agency" else (column,))
    ),
    "external_id",
    "version",
    "created_at",
    "updated_at",
)
"""The record's columns (:data:`registry.models.system.RECORD_COLUMNS`), the managing agency's
name beside its code, then what describes the registry's copy."""


@dataclass(frozen=True)
class ExportScope:
    """What is exported: the list page's filter, narrowed to one agency for submitters."""

    flt: SystemFilter
    owner_agency_id: int | None = None
    system_ids: frozenset[int] | None = None
    """Only these systems (an import reads back only the ones its file updates)."""


def count(session: Session, scope: ExportScope) -> int:
    conditions = _conditions(session, scope)
    return session.scalar(select(func.count()).select_from(InformationSystem).where(*conditions)) or 0


def _conditions(session: Session, scope: ExportScope) -> list[Any]:
    conditions = filter_conditions(session, scope.flt)
    if scope.owner_agency_id is not None:
        conditions.append(InformationSystem.owner_agency_id == scope.owner_agency_id)
    if scope.system_ids is not None:
        conditions.append(InformationSystem.id.in_(sorted(scope.system_ids)))  # type: ignore[union-attr]
    return conditions


def _iso(value: Any) -> Any:
    if isinstance(value, str):
        # SQLite's text: "2026-11-23 22:55:33.123456" (UTC by construction) or "2026-11-23".
        # Whole seconds: microseconds are noise to a reader and to a spreadsheet.
        return value.split(".", 1)[0].replace(" ", "T", 1) + "+00:00" if " " in value else value
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


DATE_COLUMNS = frozenset({*DATE_FIELDS, "created_at", "updated_at"})
LINKED = ("user_agencies", "capabilities", "data_domains")
KEYS = (*(name for name in COLUMNS if name not in LINKED), *LINKED)
"""A row's keys in their order (the JSON export's): the columns, the linked codes last."""


def rows(session: Session, scope: ExportScope, batch: int = BATCH) -> Iterator[dict[str, Any]]:
    """Every matching system as a dict of ``COLUMNS``, ``batch`` at a time: in registration
    order, or in the filter's ``sort`` when one was chosen (the list page's order).

    Plain Core rows on a connection of their own: no ORM objects are built, so 100,000
    systems stream in seconds and in constant memory. Batches are ranges of ids, the next one
    read in a thread while this one is written (``registry.exports.prefetch``).
    """
    query = _query(session, scope)
    dates = [KEYS.index(name) for name in sorted(DATE_COLUMNS)]
    joined: dict[str, str] = {}
    engine = session.get_bind()
    dialect = engine.dialect
    # The driver's own tuples are read (see _batches), so the conversions SQLAlchemy would
    # apply (SQLite's 0/1 to booleans) are applied here, to the columns that have one.
    converted = [
        (i - 1, convert)
        for i, column in enumerate(query.selected_columns)
        if i and (convert := column.type.dialect_impl(dialect).result_processor(dialect, None))
    ]
    order = sort_order(scope.flt) if scope.flt.sort else None
    for chunk, (users, capabilities, domains) in prefetched(lambda: _batches(engine, query, batch, order)):
        if len(joined) > 4 * batch:
            joined.clear()
        for row in chunk:
            values = list(row[1:])
            for i, convert in converted:
                values[i] = convert(values[i])
            for i in dates:
                values[i] = _iso(values[i])
            system_id = row[0]
            values.append(_sorted_codes(users.get(system_id), joined))
            values.append(_sorted_codes(capabilities.get(system_id), joined))
            values.append(_sorted_codes(domains.get(system_id), joined))
            yield dict(zip(KEYS, values, strict=True))


Linked = tuple[dict[int, str], dict[int, str], dict[int, str]]
"""A batch's codes joined per system id: user agencies, capabilities, data domains."""


def _batches(
    engine: Any, query: Any, batch: int, order: tuple[Any, ...] | None = None
) -> Iterator[tuple[Sequence[Any], Linked]]:
    """``query``'s rows, ``batch`` at a time (each batch one indexed query), with their codes.

    The linked codes of a batch are one grouped aggregate per link table over the batch's
    range of ids (a range scan of its primary key): fetching each link row through
    SQLAlchemy and grouping in Python took a third of an export, and a correlated aggregate
    per system made PostgreSQL's batches twice as slow.

    A connection of its own, released the moment the export ends or is abandoned (a client
    that disconnects mid-download), and on PostgreSQL one snapshot for the whole file.

    With an ``order``, the matching ids are read first in that order (ids only: 100,000 of
    them are a few megabytes) and each batch is a slice of them, put back in order.
    """
    options = {"isolation_level": "REPEATABLE READ"} if engine.dialect.name == "postgresql" else {}
    with engine.connect().execution_options(**options) as connection:
        if engine.dialect.name == "postgresql":
            # Each batch is costly enough on paper for PostgreSQL to compile it (JIT), which
            # took 60 ms of a 180 ms batch and gained nothing; for this transaction only.
            connection.exec_driver_sql("SET LOCAL jit = off")
        if order is not None:
            yield from _ordered_batches(connection, query, batch, order)
            return
        last = 0
        while True:
            chunk = _tuples(connection, query.where(InformationSystem.id > last).limit(batch))
            if not chunk:
                return
            first, last = chunk[0][0], chunk[-1][0]
            linked = tuple(
                dict(_tuples(connection, codes.where(key.between(first, last))))
                for key, codes in _LINKED_CODES
            )
            yield chunk, linked  # type: ignore[misc]


def _ordered_batches(
    connection: Any, query: Any, batch: int, order: tuple[Any, ...]
) -> Iterator[tuple[Sequence[Any], Linked]]:
    ids_query = query.with_only_columns(InformationSystem.id).order_by(None).order_by(*order)
    ids = [row[0] for row in _tuples(connection, ids_query)]
    for start in range(0, len(ids), batch):
        wanted = ids[start : start + batch]
        found = {row[0]: row for row in _tuples(connection, query.where(InformationSystem.id.in_(wanted)))}
        linked = tuple(
            dict(_tuples(connection, codes.where(key.in_(wanted)))) for key, codes in _LINKED_CODES
        )
        yield [found[i] for i in wanted if i in found], linked  # type: ignore[misc]


def _tuples(connection: Any, query: Any) -> list[Any]:
    """The DBAPI cursor's plain tuples: SQLAlchemy's Row objects for 30 columns cost a
    quarter of the fetch."""
    result = connection.execute(query)
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _sorted_codes(value: str | None, seen: dict[str, str]) -> str:
    """An aggregate's codes in code order: neither database promises the order it joins them in.

    Few systems share exactly the same set of codes in the same order, but many share small
    ones (capabilities, data domains): ``seen`` remembers each string already sorted.
    """
    if not value:
        return ""
    if LIST_SEPARATOR not in value:
        return value
    found = seen.get(value)
    if found is None:
        found = seen[value] = LIST_SEPARATOR.join(sorted(value.split(LIST_SEPARATOR)))
    return found


def _query(session: Session, scope: ExportScope) -> Any:
    """The id, then ``KEYS`` but the linked codes, of the systems in ``scope``, ordered by id."""
    owner, operator, platform = aliased(Agency), aliased(Agency), aliased(InformationSystem)
    s = InformationSystem
    relations = {
        "instance_of": platform.code,
        "owner_agency": owner.code,
        "owner_agency_name": owner.name,
        "operator_agency": operator.code,
    }
    # Dates as stored: SQLite's text becomes ISO 8601 by string operations (see _iso),
    # several times cheaper than building datetime objects only to format them again.
    dates = {name: type_coerce(getattr(s, name), String) for name in DATE_COLUMNS}
    overrides = {**relations, **dates}
    selected = {
        name: overrides[name] if name in overrides else getattr(s, name)
        for name in COLUMNS
        if name not in LINKED
    }
    assert (*selected, *LINKED) == KEYS
    return (
        select(s.id, *(column.label(name) for name, column in selected.items()))
        .join(owner, owner.id == s.owner_agency_id)
        .outerjoin(operator, operator.id == s.operator_agency_id)
        .outerjoin(platform, platform.id == s.instance_of_id)
        .where(*_conditions(session, scope))
        .order_by(s.id)
    )


def _joined_codes(target_id: Any, target: Any) -> tuple[Any, Any]:
    """Per system id, the codes it links to through ``target_id``'s table, joined by
    ``LIST_SEPARATOR``; with the link table's system id column, to bound it by."""
    link = target_id.class_
    query = (
        select(link.system_id, func.aggregate_strings(target.code, LIST_SEPARATOR))
        .join_from(link, target, target.id == target_id)
        .group_by(link.system_id)
    )
    return link.system_id, query


_LINKED_CODES = (
    _joined_codes(SystemUserAgencyLink.agency_id, Agency),
    _joined_codes(SystemCapabilityLink.capability_id, Capability),
    _joined_codes(SystemDataDomainLink.data_domain_id, DataDomain),
)
