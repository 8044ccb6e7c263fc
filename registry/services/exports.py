"""Exports of the inventory: who may take what out, the metadata, and the audit event."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, Float, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import Role
from registry.errors import ValidationError
from registry.exports import as_of as as_of_export
from registry.exports import inventory, records, trail
from registry.exports.formats import ExportMeta
from registry.filters import SystemFilter
from registry.models import Decision, Dependency, DuplicateWarning, Finding, InformationSystem
from registry.models.audit_chain import timestamp
from registry.services import audit

FORMATS = ("csv", "xlsx", "json", "publiccode", "backstage")
TRAIL_FORMATS = ("csv", "jsonl")
AS_OF_FORMATS = ("xlsx", "csv", "json")
"""Tables only: publiccode.yml and Backstage describe systems as they are now."""


def restricted_agency(actor: Actor) -> int | None:
    """The agency a submitter's inventory export keeps to; ``None``: the whole portfolio.

    Review outcomes (decisions, warnings, findings) are not restricted this way: see
    :func:`registry.auth.policy.may_read_review_outcomes`.
    """
    return actor.agency_id if actor.role == Role.SUBMITTER else None


def scope_for(actor: Actor, flt: SystemFilter) -> inventory.ExportScope:
    """Submitters take out only their own agency's systems; other roles the whole filter."""
    policy.ensure(policy.allows(actor, policy.Permission.EXPORT))
    return inventory.ExportScope(flt=flt, owner_agency_id=restricted_agency(actor))


def scope_for_system(actor: Actor, system: InformationSystem) -> inventory.ExportScope:
    """One system's export: the same rule as the inventory's, so submitters only their agency's."""
    scope = scope_for(actor, SystemFilter(q=system.code))
    policy.ensure(scope.owner_agency_id in (None, system.owner_agency_id))
    return inventory.ExportScope(flt=scope.flt, owner_agency_id=system.owner_agency_id)


def system_rows(session: Session, scope: inventory.ExportScope) -> Iterator[dict[str, Any]]:
    """The one row of :func:`scope_for_system` (the search also matches longer codes)."""
    return (row for row in inventory.rows(session, scope) if row["code"] == scope.flt.q)


def begin(
    session: Session,
    actor: Actor,
    fmt: str,
    scope: inventory.ExportScope,
    as_of: datetime | None = None,
    *,
    single: bool = False,
) -> ExportMeta:
    """Count, describe and audit the export before its first byte is written.

    With ``as_of`` the rows are rebuilt from the audit trail (:mod:`registry.exports.as_of`)
    and the metadata says how, and what the trail could not tell. ``single`` is one system's
    export (its page's menu): the metadata names its code.
    """
    filters = {
        k: v for k, v in scope.flt.to_args(page="", per_page="", sort="").items() if v not in ("", [], None)
    }
    if single:
        filters = {"code": scope.flt.q}
    elif scope.owner_agency_id is not None:
        filters["owner_agency_id"] = scope.owner_agency_id
    notes = ""
    if single:
        total = 1
    elif as_of is None:
        total = inventory.count(session, scope)
    else:
        past = as_of_scope(scope, as_of)
        filters["as_of"] = as_of_export.iso_second(as_of)
        total, notes = as_of_export.count(session, past), as_of_export.notes(session, past)
    meta = _meta(actor, filters, total, notes=notes)
    _audited(session, actor, "export.inventory", fmt, meta)
    return meta


def as_of_instant(session: Session, value: str | None) -> datetime:
    """The instant an inventory "as of" ``value`` rebuilds, or a :class:`ValidationError`
    that says, next to the date field, why none can be: no date, not a date, or a date before
    the audit trail begins (the file would be empty for a reason no one would guess)."""
    if not (value or "").strip():
        raise ValidationError({"as_of": [_l("Choose the date the inventory should show.")]})
    instant = as_of_export.parse_instant(value or "")
    if instant is None:
        raise ValidationError({"as_of": [_l("Give a date as YYYY-MM-DD.")]})
    first = as_of_export.trail_start(session)
    if first is None or instant < first:
        message = (
            _l("The audit trail is empty: there is no past inventory to rebuild.")
            if first is None
            else _l(
                "The audit trail begins on %(day)s: the inventory cannot be rebuilt before then.",
                day=format_date(first),
            )
        )
        raise ValidationError({"as_of": [message]})
    return instant


def as_of_scope(scope: inventory.ExportScope, instant: datetime) -> as_of_export.AsOfScope:
    return as_of_export.AsOfScope(instant=instant, flt=scope.flt, owner_agency_id=scope.owner_agency_id)


def record_filter_for(actor: Actor, args: Any) -> records.RecordFilter:
    """The decision log and the warnings are review outcomes: every reader takes out all of them
    (:func:`registry.auth.policy.may_read_review_outcomes`), narrowed only by the query."""
    policy.ensure(policy.allows(actor, policy.Permission.EXPORT) and policy.may_read_review_outcomes(actor))
    return records.RecordFilter.parse(args)


RECORD_KINDS = {
    "decisions": ("Registry decision log", records.count_decisions),
    "warnings": ("Registry duplication warnings", records.count_warnings),
}


def begin_records(
    session: Session, actor: Actor, kind: str, fmt: str, flt: records.RecordFilter
) -> ExportMeta:
    """Count, describe and audit an export of the decision log or of the warnings."""
    title, counter = RECORD_KINDS[kind]
    meta = _meta(actor, flt.describe(), counter(session, flt), title=title, unit=kind)
    _audited(session, actor, f"export.{kind}", fmt, meta)
    return meta


def begin_trail(
    session: Session, actor: Actor, fmt: str, since: datetime | None, until: datetime | None
) -> tuple[ExportMeta, trail.TrailRange]:
    """Audit first, then fix the range, so the export's own event closes the file it is in."""
    policy.ensure(policy.allows(actor, policy.Permission.READ_AUDIT))
    filters = {k: timestamp(v) for k, v in (("since", since), ("until", until)) if v}
    audit.record(
        session,
        actor,
        "export.audit_trail",
        object_type="export",
        object_id=fmt,
        after={"format": fmt, "filters": filters},
    )
    session.commit()
    span = trail.resolve(session, since, until)
    meta = _meta(
        actor,
        filters,
        trail.count(session, span),
        title="Registry audit trail",
        unit="events",
        notes=span.describe(),
    )
    return meta, span


def _meta(actor: Actor, filters: dict[str, Any], total: int, **described: str) -> ExportMeta:
    return ExportMeta(
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        exported_by=actor.label,
        filters=filters,
        count=total,
        **described,
    )


def _audited(session: Session, actor: Actor, action: str, fmt: str, meta: ExportMeta) -> None:
    """The export is an event: who took what out, in which format, with which filters."""
    audit.record(
        session,
        actor,
        action,
        object_type="export",
        object_id=fmt,
        object_label=f"{meta.count} {meta.unit}",
        after={"format": fmt, "filters": meta.filters, meta.unit: meta.count},
    )
    session.commit()


def _ids(session: Session, scope: inventory.ExportScope) -> Any:
    return select(col(InformationSystem.id)).where(*inventory._conditions(session, scope))


def related_sheets(
    session: Session, scope: inventory.ExportScope
) -> list[tuple[str, list[str], Iterable[list[Any]]]]:
    """Dependencies, warnings, findings and decisions touching the exported systems."""
    ids = _ids(session, scope).scalar_subquery()
    source, target, a, b = (aliased(InformationSystem) for _ in range(4))

    engine: Any = session.get_bind()  # an Engine: sessions here are bound to the app's engine

    def stream(query: Any) -> Iterator[list[Any]]:
        # Core rows (the ORM's result machinery cost more than the query), and only the
        # timestamp and score columns go through _cell. A connection of its own, as the
        # systems sheet has: these rows are read while the download streams, after the
        # request's session has committed, and a transaction reopened on that session stayed
        # open on PostgreSQL once the download ended.
        typed = [i for i, c in enumerate(query.selected_columns) if isinstance(c.type, DateTime | Float)]
        with engine.connect() as connection:
            for row in connection.execute(query.execution_options(yield_per=2000)):
                values = list(row)
                for i in typed:
                    values[i] = _cell(values[i])
                yield values

    dependencies = (
        select(col(source.code), col(target.code), col(Dependency.kind), col(Dependency.note))
        .join(source, col(source.id) == col(Dependency.source_id))
        .join(target, col(target.id) == col(Dependency.target_id))
        .where(col(Dependency.source_id).in_(ids))
        .order_by(col(source.code), col(target.code))
    )
    warnings = (
        select(
            col(a.code),
            col(b.code),
            col(DuplicateWarning.score),
            col(DuplicateWarning.relation),
            col(DuplicateWarning.disposition),
            col(DuplicateWarning.disposition_reason),
            col(DuplicateWarning.decided_by_label),
            col(DuplicateWarning.detector_version),
        )
        .join(a, col(a.id) == col(DuplicateWarning.system_a_id))
        .join(b, col(b.id) == col(DuplicateWarning.system_b_id))
        .where(col(DuplicateWarning.system_a_id).in_(ids) | col(DuplicateWarning.system_b_id).in_(ids))
        .order_by(col(DuplicateWarning.score).desc())
    )
    findings = (
        select(col(source.code), col(Finding.rule_code), col(Finding.severity), col(Finding.detected_at))
        .join(source, col(source.id) == col(Finding.system_id))
        .where(col(Finding.system_id).in_(ids))
        .order_by(col(source.code), col(Finding.rule_code))
    )
    decisions = (
        select(
            col(source.code),
            col(Decision.outcome),
            col(Decision.reason),
            col(Decision.reviewer_label),
            col(target.code),
            col(Decision.decided_at),
        )
        .join(source, col(source.id) == col(Decision.system_id))
        .outerjoin(target, col(target.id) == col(Decision.reuse_system_id))
        .where(col(Decision.system_id).in_(ids))
        .order_by(col(Decision.decided_at))
    )
    return [
        ("Dependencies", ["system", "depends_on", "kind", "note"], stream(dependencies)),
        (
            "Warnings",
            ["system_a", "system_b", "score", "relation", "disposition", "reason", "decided_by", "detector"],
            stream(warnings),
        ),
        ("Findings", ["system", "rule", "severity", "detected_at"], stream(findings)),
        (
            "Decisions",
            ["system", "outcome", "reason", "reviewer", "reuse_instead", "decided_at"],
            stream(decisions),
        ),
    ]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, float):
        return round(value, 4)
    return value
