"""Registering and editing information systems, with the validation every entry point shares."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import (
    PROPOSAL_STATUSES,
    SECURITY_LEVELS,
    AgencyLevel,
    Hosting,
    SystemStatus,
)
from registry.errors import NotFoundError, StaleEditError, ValidationError, too_long
from registry.models import Agency, Capability, DataDomain, InformationSystem
from registry.models.system import BASE_FIELDS, NUMBER_LIMITS, TEXT_LIMITS, WEB_ADDRESS_FIELDS, SystemInput
from registry.services import audit
from registry.services.codes import reserve_codes
from registry.services.consequences import follow_save
from registry.services.locking import refused_if_stale
from registry.text import fold, is_web_address

PROPOSAL_REQUIRED = (
    "operator_agency_id",
    "user_agency_ids",
    "legal_basis",
    "mandate",
    "usage_orientation",
    "security_level",
    "target_users",
    "capability_ids",
)
"""Fields a proposal must fill before review: the directives stop systems that lack a basis,
a stated task, named agencies, an orientation for use or practical grounding (target users);
capabilities are what overlaps are checked on."""

ALWAYS_REQUIRED = ("name", "description", "scope_level", "owner_agency_id")
"""Fields every record needs, even a draft or a system recorded as found in operation."""


def required_fields(status: str | None) -> frozenset[str]:
    """The fields :func:`validate_system_input` refuses to leave empty at ``status``.

    The form marks exactly these, so what a person sees as required is what the rules enforce.
    """
    if status in PROPOSAL_STATUSES:
        return frozenset(ALWAYS_REQUIRED + PROPOSAL_REQUIRED)
    return frozenset(ALWAYS_REQUIRED)


class _Errors(dict[str, list[object]]):
    def add(self, name: str, message: object) -> None:
        self.setdefault(name, []).append(message)


def validate_system_input(
    session: Session,
    data: SystemInput,
    *,
    system_id: int | None = None,
    today: date | None = None,
    check_references: bool = True,
) -> SystemInput:
    """Return the normalised input or raise :class:`ValidationError` naming every bad field.

    How much is required depends on the status: a draft needs only a name, a description and
    its managing agency; a proposal (submitted and later) needs every governance field; a system
    recorded as in operation or retired is kept as found, so that the gaps the directives
    target (no operator, no operating rules) are visible and flagged instead of being refused.

    ``check_references=False`` is for callers whose ids come from a
    :class:`registry.interchange.record.CodeBook`, which has already resolved every code (and
    checked deployments against shared platforms): an import of 100,000 rows then costs no
    query per row.
    """
    data = data.normalised()
    errors = _Errors()
    today = today or date.today()

    for name, limit in TEXT_LIMITS.items():
        value = getattr(data, name)
        if value is not None and len(value) > limit:
            errors.add(name, too_long(limit, len(value)))
    for name in WEB_ADDRESS_FIELDS:
        value = getattr(data, name)
        if value is not None and not is_web_address(value):
            errors.add(name, _l("Enter a web address starting with http:// or https://."))
    if not data.name:
        errors.add("name", _l("Enter the name of the system."))
    if not data.description:
        errors.add("description", _l("Describe what the system does."))

    if data.status not in SystemStatus._value2member_map_:
        errors.add("status", _l("Choose a valid status."))
    if data.scope_level is None:
        errors.add("scope_level", _l("Choose the level the system serves."))
    elif data.scope_level not in AgencyLevel._value2member_map_:
        errors.add("scope_level", _l("Choose central, province or commune."))
    if data.hosting is not None and data.hosting not in Hosting._value2member_map_:
        errors.add("hosting", _l("Choose a valid hosting option."))
    if data.security_level is not None and data.security_level not in SECURITY_LEVELS:
        errors.add("security_level", _l("The security level must be between 1 and 5."))

    for name, limit in NUMBER_LIMITS.items():
        value = getattr(data, name)
        if value is not None and not 0 <= value <= limit:
            errors.add(name, _l("Must be a whole number between 0 and %(limit)s.", limit=f"{limit:,}"))

    if data.operating_rules_date is not None:
        if data.operating_rules_ref is None:
            errors.add(
                "operating_rules_ref", _l("Give the reference of the operating rules issued on this date.")
            )
        if data.operating_rules_date > today:
            errors.add("operating_rules_date", _l("The date cannot be in the future."))

    if check_references:
        _check_references(session, data, errors, system_id)
    elif data.owner_agency_id is None:
        errors.add("owner_agency_id", _l("Choose the managing agency."))

    if data.status in PROPOSAL_STATUSES:
        for name in PROPOSAL_REQUIRED:
            if getattr(data, name) in (None, []):
                errors.add(
                    name,
                    _l("Choose at least one capability, so overlaps can be checked.")
                    if name == "capability_ids"
                    else _l("Required for a proposal under review; save as a draft until you have it."),
                )

    if errors:
        raise ValidationError(errors)
    return data


def _check_references(session: Session, data: SystemInput, errors: _Errors, system_id: int | None) -> None:
    agency_ids = {
        i for i in (data.owner_agency_id, data.operator_agency_id, *data.user_agency_ids) if i is not None
    }
    known_agencies = _existing_ids(session, Agency, agency_ids)
    if data.owner_agency_id is None:
        errors.add("owner_agency_id", _l("Choose the managing agency."))
    elif data.owner_agency_id not in known_agencies:
        errors.add("owner_agency_id", _l("This agency does not exist."))
    if data.operator_agency_id is not None and data.operator_agency_id not in known_agencies:
        errors.add("operator_agency_id", _l("This agency does not exist."))
    if any(a not in known_agencies for a in data.user_agency_ids):
        errors.add("user_agency_ids", _l("One of the chosen agencies does not exist."))
    if len(_existing_ids(session, Capability, data.capability_ids)) != len(data.capability_ids):
        errors.add("capability_ids", _l("One of the chosen capabilities does not exist."))
    if len(_existing_ids(session, DataDomain, data.data_domain_ids)) != len(data.data_domain_ids):
        errors.add("data_domain_ids", _l("One of the chosen data domains does not exist."))

    if data.instance_of_id is not None:
        platform = (
            session.get(InformationSystem, data.instance_of_id) if 0 < data.instance_of_id <= MAX_ID else None
        )
        if platform is None:
            errors.add("instance_of_id", _l("This system does not exist."))
        elif system_id is not None and platform.id == system_id:
            errors.add("instance_of_id", _l("A system cannot be a deployment of itself."))
        elif not platform.is_shared_platform:
            errors.add(
                "instance_of_id", _l("Only a shared platform can be deployed; this system is not one.")
            )


MAX_ID = 2**31 - 1
"""The largest id a row can have (an ``INTEGER`` key on PostgreSQL). A larger number typed or
sent in is simply no row's id; given to the database it would be an overflow error."""


def _existing_ids(session: Session, model: Any, ids: Iterable[int]) -> set[int]:
    wanted = {i for i in ids if 0 < i <= MAX_ID}
    if not wanted:
        return set()
    return set(session.scalars(select(model.id).where(model.id.in_(wanted))))


def _apply(session: Session, system: InformationSystem, data: SystemInput) -> None:
    # Loading the relations below would autoflush the half-applied change, and every flush of a
    # changed row bumps its version: an edit would then count as two.
    with session.no_autoflush:
        _assign(session, system, data)


def _assign(session: Session, system: InformationSystem, data: SystemInput) -> None:
    for name in BASE_FIELDS:
        setattr(system, name, getattr(data, name))
    system.user_agencies = _load(session, Agency, data.user_agency_ids)
    system.capabilities = _load(session, Capability, data.capability_ids)
    system.data_domains = _load(session, DataDomain, data.data_domain_ids)
    system.search_text = search_text_of(system.code, data.name, data.description, data.purpose)
    system.name_key = fold(data.name)[:200]
    system.updated_at = datetime.now(UTC)


def search_text_of(code: str | None, name: str | None, description: str | None, purpose: str | None) -> str:
    """The folded text the search box matches: code, name, description and purpose."""
    return " ".join(fold(v) for v in (code, name, description, purpose) if v)


def _load(session: Session, model: Any, ids: list[int]) -> list[Any]:
    if not ids:
        return []
    return list(session.scalars(select(model).where(model.id.in_(ids))))


def check_actor_may_set(actor: Actor, data: SystemInput, current_status: str | None = None) -> None:
    """Refuse an owner or a status the actor may not choose, as errors on those fields.

    Forms only offer allowed choices; this catches tampered forms and API calls alike.
    """
    errors = _Errors()
    owners = policy.owner_agencies(actor)
    if owners is not None and data.owner_agency_id not in owners:
        errors.add("owner_agency_id", _l("You can only register and edit systems of your own agency."))
    if data.status not in policy.settable_statuses(actor, current_status):
        if current_status is None:
            errors.add("status", _l("You cannot give a system this status; the standing office decides it."))
        else:
            errors.add(
                "status",
                _l("A save keeps the status; submit, withdraw or decide with the buttons on its page."),
            )
    if errors:
        raise ValidationError(errors)


def system_snapshot(session: Session, system: InformationSystem) -> dict[str, object]:
    """Every editable value of the system, relations by code: what the audit trail keeps.

    Codes rather than ids, because they are what people (and outside verifiers) recognise and
    they stay meaningful when the trail is exported on its own.
    """
    values: dict[str, object] = {name: getattr(system, name) for name in InformationSystem.EDITABLE_FIELDS}
    wanted = {system.owner_agency_id, system.operator_agency_id} - {None}
    codes = {
        row.id: row.code
        for row in session.execute(select(col(Agency.id), col(Agency.code)).where(col(Agency.id).in_(wanted)))
    }
    values["owner_agency"] = codes.get(system.owner_agency_id)
    values["operator_agency"] = codes.get(system.operator_agency_id) if system.operator_agency_id else None
    values["user_agencies"] = sorted(a.code for a in system.user_agencies)
    values["capabilities"] = sorted(c.code for c in system.capabilities)
    values["data_domains"] = sorted(d.code for d in system.data_domains)
    values["instance_of"] = (
        session.scalar(
            select(col(InformationSystem.code)).where(col(InformationSystem.id) == system.instance_of_id)
        )
        if system.instance_of_id
        else None
    )
    return values


def create_system(
    session: Session,
    data: SystemInput,
    *,
    actor: Actor,
    registered_year: int | None = None,
    external_id: str | None = None,
    reuse_of: str | None = None,
) -> InformationSystem:
    """Register a system: permission, validation, a fresh public code, the write, the audit
    event, then what every save entails (:func:`registry.services.consequences.follow_save`:
    the declared reuse, rules R1–R10, duplication warnings). Flushes; the caller commits.

    The code is reserved (:func:`registry.services.codes.reserve_codes`); should it collide all
    the same (SQLite's concurrent readers), the unique index refuses it and the next one is tried
    inside a savepoint.
    """
    policy.ensure(policy.allows(actor, policy.Permission.CREATE_SYSTEM))
    data = validate_system_input(session, data)
    check_actor_may_set(actor, data)
    year = registered_year or datetime.now(UTC).year
    for _attempt in range(5):
        system = InformationSystem(
            code=reserve_codes(session, year, 1)[0],
            external_id=external_id,
            owner_agency_id=data.owner_agency_id,  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
            name=data.name or "",
            description=data.description or "",
            status=data.status,
            scope_level=data.scope_level or "",
        )
        _apply(session, system, data)
        try:
            with session.begin_nested():
                session.add(system)
                session.flush()
        except IntegrityError:
            # Rolling the savepoint back already took the new row out of the session, unless a
            # relation had put it in before the savepoint began.
            if system in session:
                session.expunge(system)
            continue
        break
    else:  # pragma: no cover - five collisions in a row means something else is wrong
        raise RuntimeError("could not allocate a public code")
    audit.record(
        session,
        actor,
        "system.create",
        object_type="system",
        object_id=system.code,
        object_label=system.name,
        system_id=system.id,
        after={"code": system.code, "external_id": external_id, **system_snapshot(session, system)},
    )
    follow_save(session, [system], actor=actor, reuse_of=reuse_of)
    return system


def update_system(
    session: Session,
    system: InformationSystem,
    data: SystemInput,
    *,
    actor: Actor,
    expected_version: int | None,
    reuse_of: str | None = None,
    attesting: bool = False,
) -> InformationSystem:
    """Save an edit made on version ``expected_version`` of ``system``: the same steps as
    :func:`create_system`, with the optimistic-lock check and an audited diff. Flushes only.

    ``attesting`` is for :func:`registry.services.reporting.attest_system` only: the agency
    corrects its deployed system's record (see :func:`registry.auth.policy.can_edit_system`).

    A stale version is refused before anything changes; a concurrent save that slips between
    this check and the UPDATE is caught by the version counter in the UPDATE's WHERE clause.
    An edit that changes nothing a person can see records nothing (only a declared reuse).
    """
    policy.ensure(policy.can_edit_system(actor, system.owner_agency_id, system.status, attesting=attesting))
    if expected_version != system.version:
        raise StaleEditError(system.version, expected_version)
    data = validate_system_input(session, data, system_id=system.id)
    check_actor_may_set(actor, data, current_status=system.status)
    before = system_snapshot(session, system)
    _apply(session, system, data)
    with session.no_autoflush:  # the UPDATE must go out below, where a stale version is caught
        old, new = audit.changes(before, system_snapshot(session, system))
    if not new:
        # Nothing a person can see changed: forget the re-assigned values (and the new
        # timestamp), so the save neither bumps the version nor touches the row.
        session.expire(system)
        if reuse_of:
            follow_save(session, [system], actor=actor, reuse_of=reuse_of)
    else:
        with refused_if_stale(session, system, expected_version):
            session.flush()
        audit.record(
            session,
            actor,
            "system.update",
            object_type="system",
            object_id=system.code,
            object_label=system.name,
            system_id=system.id,
            before={"version": expected_version, **old},
            after={"version": system.version, **new},
        )
        follow_save(session, [system], actor=actor, reuse_of=reuse_of)
    return system


def get_system(session: Session, code: str) -> InformationSystem:
    system = session.scalar(select(InformationSystem).where(col(InformationSystem.code) == code))
    if system is None:
        raise NotFoundError(code)
    return system
