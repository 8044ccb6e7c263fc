"""Planning an import: decide, row by row, what committing the file would do, writing nothing.

Every row is checked as the forms check a save (the same validation and permissions) and
matched to the registered system it updates: by its ``external_id``, else by its public
``code``; a row with neither gets an external id derived from its managing agency and its
name, so the same hand-made template imported twice does not register everything twice. Only
the systems the file touches are read back. A file that names no managing agency may take a
default one, with its level as the rows' scope.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import AgencyBlock, AgencyLevel, DependencyKind
from registry.errors import ValidationError
from registry.exports import inventory
from registry.filters import SystemFilter
from registry.interchange.readers import MAX_RECORDS, read_source
from registry.interchange.record import (
    WRITABLE_COLUMNS,
    CodeBook,
    RecordProblems,
    column_of,
    typed,
)
from registry.interchange.source import Source, SourceAgency
from registry.models import (
    Agency,
    Dependency,
    InformationSystem,
)
from registry.services.codes import CODE_PREFIX
from registry.services.overlaps import EXCLUDED_STATUSES, WARNING_THRESHOLD, portfolio_index
from registry.services.systems import (
    SystemInput,
    check_actor_may_set,
    validate_system_input,
)
from registry.text import fold

OVERLAP_PREVIEW_LIMIT = 300
"""New systems whose overlaps the preview computes; a bigger import is checked by the next scan."""

RELATION_COLUMNS = (
    "owner_agency",
    "operator_agency",
    "user_agencies",
    "capabilities",
    "data_domains",
    "instance_of",
)

IDS_PER_STATEMENT = 2000
"""Systems per statement that lists their ids (PostgreSQL takes at most 65,535 parameters)."""


CODE_PATTERN = re.compile(rf"^{CODE_PREFIX}-(\d{{4}})-(\d{{6}})$")
AUTO_ID_PREFIX = "name:"

DefaultOwner = tuple[str, str]
"""The code and level of the agency that rows naming no managing agency take."""


class Action:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass
class RowPlan:
    """What the import would do with one row of the file, and why not if it is refused."""

    location: str
    action: str
    name: str
    owner_agency: str | None
    order: int = 0
    code: str | None = None
    external_id: str | None = None
    problems: list[tuple[str, object]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    data: SystemInput | None = None
    system_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    """The row's relations by code: owner and operator agency, user agencies, taxonomies, platform."""
    depends_on: list[tuple[str, str, str | None]] = field(default_factory=list)
    """Dependencies the file gives (target code or external id, kind, note) that are not yet recorded."""
    took_default_owner: bool = False
    """The row named no managing agency and took the import's default one."""


@dataclass
class OverlapPreview:
    location: str
    name: str
    match_code: str
    match_name: str
    score: float


@dataclass
class ImportPlan:
    format: str
    filename: str
    digest: str
    rows: list[RowPlan] = field(default_factory=list)
    file_problems: list[tuple[str, str, object]] = field(default_factory=list)
    new_agencies: list[SourceAgency] = field(default_factory=list)
    overlaps: list[OverlapPreview] = field(default_factory=list)
    overlaps_checked: int = 0
    default_owner: str | None = None
    """The agency code given to rows that name no managing agency, if the importer chose one."""
    default_owner_name: str | None = None

    @property
    def counts(self) -> Counter[str]:
        return Counter(row.action for row in self.rows)

    @property
    def ok(self) -> bool:
        """Nothing refused: the commit would write every row exactly as previewed."""
        return not self.file_problems and not any(row.action == Action.REFUSED for row in self.rows)

    @property
    def writes(self) -> bool:
        counts = self.counts
        return bool(counts[Action.CREATE] or counts[Action.UPDATE] or self.new_agencies)

    @property
    def defaulted(self) -> int:
        """Rows that took the default managing agency: the preview says so, as it filled them in."""
        return sum(1 for row in self.rows if row.took_default_owner)

    def problems(self) -> list[tuple[str, str, object]]:
        """Every problem as ``(location, column, message)``, file-level ones first."""
        found = list(self.file_problems)
        for row in self.rows:
            found.extend((row.location, column, message) for column, message in row.problems)
        return found

    def fingerprint(self) -> str:
        """What the commit promises to do: it refuses to go on if re-planning gives another one."""
        digest = hashlib.sha256(self.digest.encode())
        if self.default_owner:  # the same file with another default is another import
            digest.update(f"default|{self.default_owner}\n".encode())
        for row in self.rows:
            digest.update(f"{row.location}|{row.action}|{row.code}|{','.join(row.changed)}\n".encode())
        for agency in self.new_agencies:
            digest.update(f"agency|{agency.code}\n".encode())
        return digest.hexdigest()


@dataclass
class ImportResult:
    created: int
    updated: int
    unchanged: int
    agencies: int
    codes: list[str]


class ImportRefusedError(Exception):
    """The plan has problems, or the registry changed since the preview: nothing was written."""

    def __init__(self, plan: ImportPlan, message: object):
        self.plan = plan
        self.message = message
        super().__init__(str(message))


def plan_import(
    session: Session,
    actor: Actor,
    filename: str,
    data: bytes,
    *,
    fmt: str | None = None,
    preview_overlaps: bool = False,
    max_records: int = MAX_RECORDS,
    default_owner: str | None = None,
) -> ImportPlan:
    """Read ``data`` and decide, row by row, what committing it would do. Writes nothing.

    ``preview_overlaps`` adds the overlap warnings the first new systems would raise (the
    import page shows them; the command line skips them). ``default_owner``
    (an agency code) is taken by the rows that name no managing agency, see :func:`_default_owner`.
    """
    policy.ensure(policy.allows(actor, policy.Permission.IMPORT))
    source = read_source(filename, data, fmt, max_records=max_records)
    return plan_source(
        session,
        actor,
        source,
        filename=filename,
        digest=hashlib.sha256(data).hexdigest(),
        preview_overlaps=preview_overlaps,
        default_owner=default_owner,
    )


def plan_source(
    session: Session,
    actor: Actor,
    source: Source,
    *,
    filename: str,
    digest: str,
    preview_overlaps: bool = False,
    default_owner: str | None = None,
) -> ImportPlan:
    """Plan a file already read (``digest`` is its SHA-256), as :func:`plan_import` does.

    An upload is read once, when it arrives; its preview and its commit plan from the kept
    :class:`Source` (:mod:`registry.services.import_uploads`).
    """
    policy.ensure(policy.allows(actor, policy.Permission.IMPORT))
    plan = ImportPlan(
        format=source.format,
        filename=filename,
        digest=digest,
        default_owner=(default_owner or "").strip() or None,
    )
    plan.file_problems.extend(source.problems)
    book = CodeBook(session)
    _plan_agencies(plan, source, book, actor)
    default = _default_owner(session, actor, plan)
    existing = _existing_identities(session)
    current = _current_rows(session, source, existing, default)
    in_file = {key for record in source.records for key in _identity(record.values) if key}
    edges = _existing_edges(session, current)
    seen: dict[str, str] = {}
    ordered = sorted(enumerate(source.records), key=lambda item: _platform_first(item[1]))
    for order, record in ordered:
        row = _plan_row(session, actor, book, record.location, record.values, existing, current, default)
        row.order = order
        _plan_dependencies(row, record.values.get("depends_on"), existing, in_file, edges)
        for key in {row.external_id, row.code} - {None}:
            if key in seen:
                row.problems.append(
                    ("", _l("The same system appears twice (also %(where)s).", where=seen[key]))
                )
                row.action = Action.REFUSED
            else:
                seen[key] = row.location  # type: ignore[index]  # codes are allocated before this point
        if row.action == Action.CREATE and row.data is not None and row.data.is_shared_platform:
            for key in {row.code, row.external_id} - {None}:  # deployments later in the file
                book.learn_system(key, -len(plan.rows) - 1, True)  # type: ignore[arg-type]  # codes are allocated before this point
        plan.rows.append(row)
    plan.rows.sort(key=lambda row: row.order)
    if preview_overlaps:
        _preview_overlaps(session, plan)
    return plan


def _default_owner(session: Session, actor: Actor, plan: ImportPlan) -> DefaultOwner | None:
    """The default managing agency's code and level, or ``None`` (with a file problem) if unusable.

    It must be a registered agency, and one the actor may register systems for: a submitter's
    rows would each be refused otherwise, so the file is refused once, saying why.
    """
    code = plan.default_owner
    if code is None:
        return None
    found = session.execute(
        select(col(Agency.id), col(Agency.level), col(Agency.name)).where(col(Agency.code) == code)
    ).first()
    if found is None:
        message = _l("The default managing agency “%(code)s” is not in the registry.", code=code[:60])
        plan.file_problems.append(("", "owner_agency", message))
        return None
    owners = policy.owner_agencies(actor)
    if owners is not None and found.id not in owners:
        plan.file_problems.append(
            ("", "owner_agency", _l("You can only register and edit systems of your own agency."))
        )
        return None
    plan.default_owner_name = found.name
    return code, found.level


def _with_default_owner(values: dict[str, Any], default: DefaultOwner | None) -> tuple[dict[str, Any], bool]:
    """A copy of the row's values with the default owner if it names none, and whether it took it."""
    if default is None:  # no copy: 100,000 rows are planned without a default
        return values, False
    filled = dict(values)
    return filled, _take_default_owner(filled, default)


def _take_default_owner(values: dict[str, Any], default: DefaultOwner | None) -> bool:
    """Give a row that names no managing agency the default one, and its level if it gives none."""
    if default is None or str(values.get("owner_agency") or "").strip():
        return False
    values["owner_agency"] = default[0]
    if not str(values.get("scope_level") or "").strip():
        values["scope_level"] = default[1]
    return True


def _existing_edges(session: Session, current: dict[int, dict[str, Any]]) -> set[tuple[int, str, str]]:
    """(source id, target code, kind) of the recorded dependencies of the systems the file updates."""
    if not current:
        return set()
    target = aliased(InformationSystem)
    query = select(col(Dependency.source_id), col(target.code), col(Dependency.kind)).join(
        target, col(target.id) == col(Dependency.target_id)
    )
    if len(current) <= IDS_PER_STATEMENT:
        query = query.where(col(Dependency.source_id).in_(list(current)))
    return {(source, code, kind) for source, code, kind in session.execute(query) if source in current}


def _plan_dependencies(
    row: RowPlan,
    given: Any,
    existing: dict[str, tuple[int, str]],
    in_file: set[str],
    edges: set[tuple[int, str, str]],
) -> None:
    """Dependencies named by the file (publiccode.yml, Backstage) that are to be added.

    A dependency without a kind (Backstage's plain ``dependsOn``) is taken as data exchange.
    Dependencies already recorded are left as they are; none is removed by an import.
    """
    if not given:
        return
    if not isinstance(given, list):
        row.problems.append(("depends_on", _l("Expected a list of dependencies.")))
        row.action = Action.REFUSED
        return
    for item in given:
        key = str(item.get("code") or "").strip() if isinstance(item, dict) else ""
        kind = (item.get("kind") if isinstance(item, dict) else None) or DependencyKind.DATA_EXCHANGE.value
        note = item.get("note") if isinstance(item, dict) and isinstance(item.get("note"), str) else None
        known = existing.get(key) or existing.get("ext:" + key)
        if not key or (known is None and key not in in_file):
            row.problems.append(("depends_on", _l("Unknown code “%(code)s”.", code=key[:60])))
        elif kind not in DependencyKind._value2member_map_:
            row.problems.append(("depends_on", _l("Choose a valid kind of dependency.")))
        elif key in {row.code, row.external_id}:
            row.problems.append(("depends_on", _l("A system cannot depend on itself.")))
        elif row.system_id is None or known is None or (row.system_id, known[1], kind) not in edges:
            row.depends_on.append((key, kind, (note or None) and note[:500]))
    if row.problems:
        row.action = Action.REFUSED
    elif row.depends_on and row.action == Action.UNCHANGED:
        row.action, row.changed = Action.UPDATE, [*row.changed, "depends_on"]


def _platform_first(record: Any) -> int:
    """Shared platforms are planned (and created) before the deployments that name them."""
    flag = typed({"is_shared_platform": record.values.get("is_shared_platform")}, RecordProblems())
    return 0 if flag.get("is_shared_platform") else 1


def _plan_agencies(plan: ImportPlan, source: Source, book: CodeBook, actor: Actor) -> None:
    """Agencies the file names that the registry lacks: created by an admin's import, or refused."""
    placeholder = -1
    for agency in source.agencies:
        if agency.code in book.agencies:
            continue
        problems = _agency_problems(agency, book)
        if problems:
            plan.file_problems.extend((agency.location, "agency", message) for message in problems)
            continue
        if not policy.may_create_agencies(actor):
            plan.file_problems.append(
                (
                    agency.location,
                    "agency",
                    _l(
                        "The agency “%(code)s” is not in the registry; ask an administrator to add it.",
                        code=agency.code,
                    ),
                )
            )
            continue
        book.agencies[agency.code] = placeholder
        placeholder -= 1
        plan.new_agencies.append(agency)


def _agency_problems(agency: SourceAgency, book: CodeBook) -> list[object]:
    problems: list[object] = []
    if not agency.code or len(agency.code) > 40:
        problems.append(_l("An agency code is required, at most 40 characters."))
    if not agency.name or len(agency.name) > 200:
        problems.append(_l("An agency name is required, at most 200 characters."))
    if (
        agency.level not in AgencyLevel._value2member_map_
        or agency.block not in AgencyBlock._value2member_map_
    ):
        problems.append(_l("The agency's level or block is not one the registry knows."))
    if agency.parent_code and agency.parent_code not in book.agencies:
        problems.append(_l("Unknown code “%(code)s”.", code=agency.parent_code))
    return problems


def _existing_identities(session: Session) -> dict[str, tuple[int, str]]:
    """Every system's external id and code → (id, code), to match rows to systems."""
    found: dict[str, tuple[int, str]] = {}
    for system_id, code, external_id in session.execute(
        select(col(InformationSystem.id), col(InformationSystem.code), col(InformationSystem.external_id))
    ):
        found[code] = (system_id, code)
        if external_id:
            found["ext:" + external_id] = (system_id, code)
    return found


def _identity(values: dict[str, Any]) -> tuple[str | None, str | None]:
    code = str(values.get("code") or "").strip() or None
    external_id = str(values.get("external_id") or "").strip() or None
    return code, external_id


def _auto_external_id(values: dict[str, Any]) -> str | None:
    name, owner = values.get("name"), values.get("owner_agency")
    if not name or not owner:
        return None
    return f"{AUTO_ID_PREFIX}{owner}/{fold(str(name))}"[:200]


def _match(values: dict[str, Any], existing: dict[str, tuple[int, str]]) -> tuple[int, str] | None:
    code, external_id = _identity(values)
    external_id = external_id or (None if code else _auto_external_id(values))
    if external_id and "ext:" + external_id in existing:
        return existing["ext:" + external_id]
    if code and code in existing:
        return existing[code]
    return None


def _current_rows(
    session: Session,
    source: Source,
    existing: dict[str, tuple[int, str]],
    default: DefaultOwner | None = None,
) -> dict[int, dict[str, Any]]:
    """The interchange rows of the systems the file updates, and of no others.

    Read in slices of ids, each one query of the export's own (PostgreSQL takes at most 65,535
    parameters), so a file that updates three systems of a registry of 100,000 reads three.
    """
    wanted = {
        match[0]
        for record in source.records
        if (match := _match(_with_default_owner(record.values, default)[0], existing))
    }
    if not wanted:
        return {}
    found: dict[int, dict[str, Any]] = {}
    by_code = {code: system_id for system_id, code in existing.values()}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), IDS_PER_STATEMENT):
        scope = inventory.ExportScope(
            SystemFilter(), system_ids=frozenset(ordered[start : start + IDS_PER_STATEMENT])
        )
        for row in inventory.rows(session, scope):
            found[by_code[row["code"]]] = row
    return found


def _plan_row(
    session: Session,
    actor: Actor,
    book: CodeBook,
    location: str,
    raw: dict[str, Any],
    existing: dict[str, tuple[int, str]],
    current: dict[int, dict[str, Any]],
    default: DefaultOwner | None = None,
) -> RowPlan:
    problems = RecordProblems()
    code, external_id = _identity(raw)
    filled, took_default = _with_default_owner(raw, default)
    match = _match(filled, existing)  # a row without ids is matched by the owner it takes
    row = RowPlan(
        location=location,
        action=Action.REFUSED,
        name=str(raw.get("name") or "")[:200],
        owner_agency=str(raw.get("owner_agency") or "") or None,
        code=match[1] if match else code,
        external_id=external_id,
    )
    if match is not None:
        before = current.get(match[0], {})
        merged = {**before, **{k: v for k, v in raw.items() if k in WRITABLE_COLUMNS}}
        # A registered system keeps its owner unless the file's row blanks it.
        took_default = _take_default_owner(merged, default)
        values = typed(merged, problems)
        row.system_id = match[0]
    else:
        values = typed(filled, problems)
        if code and not CODE_PATTERN.match(code):
            # Another registry's identifier: kept as the external id, a registry code is assigned.
            row.external_id, row.code = row.external_id or code, None
        if not row.code:
            row.external_id = row.external_id or _auto_external_id(filled)
    if took_default:
        assert default is not None
        row.owner_agency, row.took_default_owner = default[0], True
    if values.get("instance_of") and values.get("instance_of") == row.code:
        problems.add("instance_of", _l("A system cannot be a deployment of itself."))
    data = book.to_input(values, problems)
    # Only the relations' codes are kept (the audit trail names relations by code): a plan of
    # 100,000 rows must not hold every text twice.
    row.values = {column: values[column] for column in RELATION_COLUMNS if values.get(column)}
    if row.values.get("instance_of") in book.code_of:  # a platform named by its external id
        row.values["instance_of"] = book.code_of[row.values["instance_of"]]
    found = RecordProblems()
    try:
        data = validate_system_input(session, data, system_id=row.system_id, check_references=False)
    except ValidationError as exc:
        found.extend(exc.errors)
        data = data.normalised()
    try:
        if match is None:
            check_actor_may_set(actor, data)
        else:
            before_data = book.to_input(typed(current.get(match[0], {}), RecordProblems()), RecordProblems())
            if not policy.can_edit_system(actor, before_data.owner_agency_id, before_data.status):
                found.add("", _l("You cannot change this system: it is not one your account may edit."))
            else:
                check_actor_may_set(actor, data, current_status=before_data.status)
            row.changed = _changed(before_data.normalised(), data)
    except ValidationError as exc:
        found.extend(exc.errors)
    for column, messages in found.by_column.items():
        # A column whose value could not be read already says so; "required" would only repeat it.
        if column not in problems.by_column:
            for message in messages:
                problems.add(column, message)
    if problems:
        row.problems = _flatten(problems)
        return row
    row.data = data
    if match is None:
        row.action = Action.CREATE
        if row.code and row.code in existing:
            row.code = None
    else:
        row.action = Action.UPDATE if row.changed else Action.UNCHANGED
    return row


def _flatten(problems: RecordProblems) -> list[tuple[str, object]]:
    return [(column, message) for column, messages in problems.by_column.items() for message in messages]


def _changed(before: SystemInput, after: SystemInput) -> list[str]:
    old, new = before.as_dict(), after.as_dict()
    changed = []
    for name, value in new.items():
        previous = old.get(name)
        if isinstance(value, list):
            value, previous = sorted(value), sorted(previous or [])
        if value != previous:
            changed.append(column_of(name))
    return changed


def _preview_overlaps(session: Session, plan: ImportPlan) -> None:
    """The warnings the first new systems would raise against the registered portfolio."""

    created = [row for row in plan.rows if row.action == Action.CREATE and row.data is not None]
    live = (
        select(col(InformationSystem.id))
        .where(col(InformationSystem.status).not_in(EXCLUDED_STATUSES))
        .limit(1)
    )
    if not created or session.scalar(live) is None:
        return  # an empty registry: nothing to overlap with, and no index to build
    finder = portfolio_index().current(session)
    matches: dict[int, tuple[RowPlan, float]] = {}
    found: list[tuple[RowPlan, int, float]] = []
    for position, row in enumerate(created[:OVERLAP_PREVIEW_LIMIT]):
        data = row.data
        assert data is not None
        record = {
            "id": f"import:{position}",
            "name": data.name or "",
            "description": data.description or "",
            "purpose": data.purpose,
            "level": data.scope_level,
            "is_shared_platform": data.is_shared_platform,
            "instance_of": data.instance_of_id,
            "agency": data.owner_agency_id,
            "capabilities": sorted(row.values.get("capabilities") or []) or None,
            "data_domains": sorted(row.values.get("data_domains") or []) or None,
            "user_agencies": sorted(data.user_agency_ids) or None,
        }
        for match in finder.query(record, k=3):
            if match["score"] >= WARNING_THRESHOLD and match.get("relation", "overlap") == "overlap":
                found.append((row, int(match["id"]), float(match["score"])))
                matches[int(match["id"])] = (row, float(match["score"]))
    plan.overlaps_checked = min(len(created), OVERLAP_PREVIEW_LIMIT)
    if not found:
        return
    names = {
        system_id: (code, name)
        for system_id, code, name in session.execute(
            select(col(InformationSystem.id), col(InformationSystem.code), col(InformationSystem.name)).where(
                col(InformationSystem.id).in_({system_id for _row, system_id, _score in found})
            )
        )
    }
    for row, system_id, score in found:
        code, name = names.get(system_id, ("?", "?"))
        plan.overlaps.append(OverlapPreview(row.location, row.name, code, name, round(score, 3)))
    plan.overlaps.sort(key=lambda o: -o.score)
