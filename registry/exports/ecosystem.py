"""Streams of publiccode.yml documents and Backstage entities, one YAML document per system.

Writers use a session of their own, closed when the stream ends or is abandoned: a streamed
response outlives its request's session (closed at teardown, before the body is sent), and a
query on that one would open a transaction nobody ends, holding locks on PostgreSQL.

Each document is dumped on its own (``yaml.safe_dump`` semantics: plain data, no tags, no
aliases) as the inventory's rows stream in, so 100,000 systems never sit in memory as one list;
dependencies are read per batch of rows. The export's metadata (filters, time, exporting user)
heads the file as YAML comments, which no reader takes for data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from registry.exports.formats import ExportMeta
from registry.interchange import backstage, publiccode
from registry.models import Agency, Capability, Dependency, InformationSystem

BATCH = 500


@dataclass(frozen=True)
class EcosystemFormat:
    label: str
    filename: str
    writer: Callable[..., Iterator[bytes]]


def _batches(rows: Iterable[dict[str, Any]], size: int = BATCH) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def dependencies_of(session: Session, codes: list[str]) -> dict[str, list[dict[str, Any]]]:
    """What each of these systems depends on: ``{"code", "name", "kind", "note", "is_shared_platform"}``."""
    source, target = aliased(InformationSystem), aliased(InformationSystem)
    query = (
        select(
            source.code, target.code, target.name, Dependency.kind, Dependency.note, target.is_shared_platform
        )
        .join(source, source.id == Dependency.source_id)
        .join(target, target.id == Dependency.target_id)
        .where(source.code.in_(codes))
        .order_by(source.code, target.code, Dependency.kind)
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for code, target_code, name, kind, note, shared in session.execute(query).all():
        found.setdefault(code, []).append(
            {
                "code": target_code,
                "name": name,
                "kind": kind,
                "note": note,
                "is_shared_platform": bool(shared),
            }
        )
    session.rollback()  # end the read's transaction: no lock is held while the batch is written
    return found


def _header(meta: ExportMeta, what: str) -> bytes:
    return publiccode.comment_lines(f"{meta.describe()}\n{what}").encode()


def system_url(base_url: str, code: str) -> str:
    return f"{base_url.rstrip('/')}/systems/{code}"


def _publiccode_chunks(
    session: Session,
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    *,
    base_url: str,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    agency_names = dict(session.execute(select(Agency.code, Agency.name)).all())
    capability_names = dict(session.execute(select(Capability.code, Capability.name)).all())
    session.rollback()
    yield _header(
        meta, "publiccode.yml 0.4, one document per system; the registry's record is under x-registry."
    )
    done = 0
    for batch in _batches(rows):
        depends = dependencies_of(session, [row["code"] for row in batch])
        parts = []
        for row in batch:
            document = publiccode.to_publiccode(
                row,
                url=system_url(base_url, row["code"]),
                agency_names=agency_names,
                capability_names=capability_names,
                dependencies=depends.get(row["code"], ()),
            )
            parts.append(publiccode.dump_document(document))
        done += len(batch)
        yield "".join(parts).encode()
        if progress:
            progress(done)


def _backstage_chunks(
    session: Session,
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    *,
    base_url: str,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    yield _header(meta, "Backstage catalog entities; the registry's columns are httt-registry/* annotations.")
    used: set[str] = set()
    done = 0
    for batch in _batches(rows):
        depends = dependencies_of(session, [row["code"] for row in batch])
        parts = []
        for row in batch:
            used.update(c for c in (row.get("owner_agency"), row.get("operator_agency")) if c)
            used.update(publiccode.codes(row.get("user_agencies")))
            entity = backstage.component(
                row, dependencies=depends.get(row["code"], ()), url=system_url(base_url, row["code"])
            )
            parts.append(publiccode.dump_document(entity))
        done += len(batch)
        yield "".join(parts).encode()
        if progress:
            progress(done)
    yield "".join(publiccode.dump_document(g) for g in groups(session, used)).encode()


def publiccode_chunks(
    session: Session,
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    *,
    base_url: str,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """``---``-separated publiccode.yml documents, one per system (see docs/interchange.md)."""
    with Session(session.get_bind()) as own:
        yield from _publiccode_chunks(own, meta, rows, base_url=base_url, progress=progress)


def backstage_chunks(
    session: Session,
    meta: ExportMeta,
    rows: Iterable[dict[str, Any]],
    *,
    base_url: str,
    progress: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """Backstage entities: a System or Component per system, then a Group per agency involved.

    Groups come last because which agencies are involved is known only once every system has
    been written; their parents are added so that the tree is whole.
    """
    with Session(session.get_bind()) as own:
        yield from _backstage_chunks(own, meta, rows, base_url=base_url, progress=progress)


def groups(session: Session, codes: set[str]) -> list[dict[str, Any]]:
    """Group entities for these agencies and their ancestors, children limited to the same set."""
    agencies = {
        row.id: row
        for row in session.execute(
            select(Agency.id, Agency.code, Agency.name, Agency.level, Agency.block, Agency.parent_id)
        )
    }
    by_code = {a.code: a for a in agencies.values()}
    wanted: set[int] = set()
    for code in codes:
        agency = by_code.get(code)
        while agency is not None and agency.id not in wanted:
            wanted.add(agency.id)
            agency = agencies.get(agency.parent_id)
    children: dict[int, list[str]] = {}
    for agency_id in wanted:
        parent = agencies[agency_id].parent_id
        if parent in wanted:
            children.setdefault(parent, []).append(agencies[agency_id].code)
    return [
        backstage.group(
            agencies[i]._asdict(),
            parent_code=agencies[agencies[i].parent_id].code if agencies[i].parent_id in wanted else None,
            children=sorted(children.get(i, ())),
        )
        for i in sorted(wanted, key=lambda i: agencies[i].code)
    ]


FORMATS = {
    "publiccode": EcosystemFormat("publiccode.yml", "publiccode.yml", publiccode_chunks),
    "backstage": EcosystemFormat("Backstage catalog-info.yaml", "catalog-info.yaml", backstage_chunks),
}
