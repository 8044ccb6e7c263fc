"""Loading the demo portfolio from the YAML files in ``seed/data``.

The files are data that people edit, so the loader treats them like any other input: every
record passes the same validation as the forms, every problem is reported with its file, record
and field, and nothing is written unless everything is valid. Loading twice changes nothing:
agencies and taxonomies are matched by code, systems by their seed key (kept as the external
id ``seed:<key>``), and records that already exist are left as people may have edited them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlmodel import Session, col

from registry import resources
from registry.auth.actor import Actor
from registry.auth.passwords import PasswordHasher
from registry.choices import AgencyBlock, AgencyLevel, DependencyKind
from registry.db import ids_by_code
from registry.errors import ValidationError
from registry.fields import field_label
from registry.models import (
    Agency,
    Capability,
    DataDomain,
    Dependency,
    InformationSystem,
    ReportingRound,
    UsageReport,
    User,
)
from registry.models.system import BOOLEAN_FIELDS, DATE_FIELDS, EDITABLE_FIELDS, INTEGER_FIELDS, SystemInput
from registry.services import audit, consequences
from registry.services.systems import create_system
from registry.services.usage import UsageInput
from registry.services.users import UserInput, validate_user_input
from registry.text import clean_line

SEED_DIR = resources.folder("seed") / "data"
EXTERNAL_PREFIX = "seed:"
SEED_ACTOR = Actor.operator("seed")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader when PyYAML has it: ten times faster than the pure-Python one."""


class SeedError(Exception):
    """The seed files are invalid; ``problems`` lists every one, nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the seed data:\n" + "\n".join(problems))


@dataclass
class SeedReport:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, created: bool) -> None:
        bucket = self.created if created else self.existing
        bucket[kind] = bucket.get(kind, 0) + 1

    def summary(self) -> str:
        kinds = [
            "agencies",
            "capabilities",
            "data_domains",
            "systems",
            "dependencies",
            "usage_reports",
            "users",
            "rounds",
        ]
        return ", ".join(
            f"{kind}: {self.created.get(kind, 0)} created, {self.existing.get(kind, 0)} already present"
            for kind in kinds
        )


@dataclass
class _Context:
    source: str
    problems: list[str]

    def problem(self, where: str, message: object) -> None:
        self.problems.append(f"{self.source}: {where}: {message}")


def read_yaml(path: Path, key: str) -> list[dict[str, Any]]:
    """The list under ``key`` in a YAML file, or a :class:`SeedError` saying why not."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SeedError([f"{path.name}: cannot be read: {exc}"]) from exc
    records = document.get(key) if isinstance(document, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SeedError([f"{path.name}: expected a top-level '{key}:' list of records"])
    return records


def load_seed(
    session: Session,
    seed_dir: Path = SEED_DIR,
    *,
    demo_users: bool = False,
    hasher: PasswordHasher | None = None,
    step: Callable[[str, SeedReport], None] | None = None,
) -> SeedReport:
    """Load every seed file (flushed; the caller commits); raise :class:`SeedError` and write
    nothing if any is bad.

    ``demo_users`` also creates the demo accounts of ``users.yaml``; callers pass it only
    outside production, and those accounts cannot sign in in production anyway. ``step`` is
    told the name of each finished step with the counts so far: loading takes long enough that
    a silent terminal looks stuck.
    """
    report = SeedReport()
    problems: list[str] = []

    def done(name: str) -> None:
        if step is not None and not problems:
            step(name, report)

    try:
        _load_agencies(session, read_yaml(seed_dir / "agencies.yaml", "agencies"), report, problems)
        for kind, model in (("capabilities", Capability), ("data_domains", DataDomain)):
            records = read_yaml(seed_dir / f"{kind}.yaml", kind)
            _load_taxonomy(session, model, kind, records, report, problems)
        done("agencies")
        system_files = sorted((seed_dir / "systems").glob("*.yaml"))
        systems = [(path.name, record) for path in system_files for record in read_yaml(path, "systems")]
        if not problems:
            with consequences.batched(session):  # rules and warnings once, after every dependency
                _load_systems(session, systems, report, problems)
        done("systems")
        if demo_users and not problems and (seed_dir / "users.yaml").exists():
            _load_users(session, seed_dir / "users.yaml", hasher or PasswordHasher(), report, problems)
            done("users")
        if not problems and (seed_dir / "rounds.yaml").exists():
            _load_rounds(session, read_yaml(seed_dir / "rounds.yaml", "rounds"), report, problems)
            done("rounds")
        if report.created and not problems:
            audit.record(
                session,
                SEED_ACTOR,
                "seed.load",
                object_type="seed",
                object_id=seed_dir.name,
                after=report.created,
            )
    except SeedError:
        session.rollback()
        raise
    if problems:
        session.rollback()
        raise SeedError(problems)
    session.flush()
    return report


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return clean_line(str(value)) if value is not None else None


def _load_agencies(
    session: Session, records: list[dict[str, Any]], report: SeedReport, problems: list[str]
) -> None:
    ctx = _Context("agencies.yaml", problems)
    existing = {a.code: a for a in session.scalars(select(Agency))}
    by_code: dict[str, dict[str, Any]] = {}
    for index, record in enumerate(records, start=1):
        code = _text(record, "code") or ""
        where = f"agency {index} ({code or 'no code'})"
        if not code or len(code) > 40:
            ctx.problem(where, "code is required, at most 40 characters")
            continue
        if code in by_code:
            ctx.problem(where, "code is used twice")
        if not _text(record, "name"):
            ctx.problem(where, "name is required")
        if record.get("level") not in AgencyLevel._value2member_map_:
            ctx.problem(where, f"level must be one of {', '.join(AgencyLevel)}")
        if record.get("block") not in AgencyBlock._value2member_map_:
            ctx.problem(where, f"block must be one of {', '.join(AgencyBlock)}")
        by_code[code] = record
    for code, record in by_code.items():
        parent = record.get("parent")
        if parent is not None and parent not in by_code and parent not in existing:
            ctx.problem(f"agency {code}", f"parent {parent} does not exist")
    if problems:
        return

    created: dict[str, Agency] = {}

    def ensure(code: str, trail: tuple[str, ...] = ()) -> Agency | None:
        if code in existing:
            return existing[code]
        if code in created:
            return created[code]
        if code in trail:
            ctx.problem(f"agency {code}", "parents form a cycle")
            return None
        record = by_code[code]
        parent = ensure(record["parent"], (*trail, code)) if record.get("parent") else None
        agency = Agency(
            code=code,
            name=_text(record, "name") or code,
            name_en=_text(record, "name_en"),
            level=record["level"],
            block=record["block"],
            parent_id=parent.id if parent else None,
        )
        session.add(agency)
        session.flush()
        created[code] = agency
        return agency

    for code in by_code:
        ensure(code)
        report.count("agencies", code not in existing)


def _load_taxonomy(
    session: Session,
    model: type[Capability] | type[DataDomain],
    kind: str,
    records: list[dict[str, Any]],
    report: SeedReport,
    problems: list[str],
) -> None:
    ctx = _Context(f"{kind}.yaml", problems)
    existing = set(session.scalars(select(model.code)))  # type: ignore[call-overload]  # Capability or DataDomain
    seen: set[str] = set()
    for index, record in enumerate(records, start=1):
        code = _text(record, "code") or ""
        where = f"entry {index} ({code or 'no code'})"
        if not code or len(code) > 40:
            ctx.problem(where, "code is required, at most 40 characters")
            continue
        if code in seen:
            ctx.problem(where, "code is used twice")
            continue
        seen.add(code)
        if not _text(record, "name") or not _text(record, "name_en"):
            ctx.problem(where, "name and name_en are required")
            continue
        if code in existing:
            report.count(kind, False)
            continue
        session.add(
            model(
                code=code,
                name=_text(record, "name") or "",
                name_en=_text(record, "name_en") or "",
                description=_text(record, "description"),
            )
        )
        report.count(kind, True)
    session.flush()


class _Converter:
    """Typed reads of one YAML record that note a problem instead of raising."""

    def __init__(self, ctx: _Context, where: str, record: dict[str, Any]):
        self.ctx, self.where, self.record = ctx, where, record

    def fail(self, key: str, message: str) -> None:
        self.ctx.problem(self.where, f"{field_label(key)} ({key}): {message}")

    def integer(self, key: str) -> int | None:
        value = self.record.get(key)
        if value is None or isinstance(value, int) and not isinstance(value, bool):
            return value
        self.fail(key, f"expected a whole number, got {value!r}")
        return None

    def day(self, key: str) -> date | None:
        value = self.record.get(key)
        if value is None or isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(key, f"expected a date YYYY-MM-DD, got {value!r}")
            return None

    def codes(self, key: str, known: dict[str, int], source_key: str | None = None) -> list[int]:
        value = self.record.get(source_key or key) or []
        if not isinstance(value, list):
            self.fail(key, "expected a list")
            return []
        missing = [str(v) for v in value if v not in known]
        if missing:
            self.fail(key, f"unknown code(s): {', '.join(missing)}")
        return [known[v] for v in value if v in known]

    def code(self, key: str, known: dict[str, int], source_key: str) -> int | None:
        value = self.record.get(source_key)
        if value is None:
            return None
        if value not in known:
            self.fail(key, f"unknown code {value!r}")
            return None
        return known[value]


def _platforms_first(systems: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Shared platforms before their deployments, so ``instance_of`` always resolves."""
    return sorted(systems, key=lambda item: 0 if item[1].get("is_shared_platform") else 1)


def _load_systems(
    session: Session,
    systems: list[tuple[str, dict[str, Any]]],
    report: SeedReport,
    problems: list[str],
) -> None:
    agencies = ids_by_code(session, Agency)
    capabilities = ids_by_code(session, Capability)
    domains = ids_by_code(session, DataDomain)
    existing = {
        ext[len(EXTERNAL_PREFIX) :]: system_id
        for ext, system_id in session.execute(
            select(col(InformationSystem.external_id), col(InformationSystem.id)).where(
                col(InformationSystem.external_id).like(EXTERNAL_PREFIX + "%")
            )
        )
    }
    ids: dict[str, int] = dict(existing)
    created: list[tuple[_Context, str, dict[str, Any], int]] = []
    seen: set[str] = set()

    for source, record in _platforms_first(systems):
        ctx = _Context(source, problems)
        key = _text(record, "key") or ""
        where = f"system {key or '(no key)'}"
        if not key or len(key) > 60:
            ctx.problem(where, "key is required, at most 60 characters")
            continue
        if key in seen:
            ctx.problem(where, "key is used twice")
            continue
        seen.add(key)
        if key in existing:
            report.count("systems", False)
            continue
        read = _Converter(ctx, where, record)
        year = read.integer("registered_year")
        if year is None or not 2000 <= year <= date.today().year:
            read.fail("registered_year", "a year between 2000 and this year is required")
            continue
        data = SystemInput.of(
            **{name: _plain_value(read, record, name) for name in EDITABLE_FIELDS},
            instance_of_id=read.code("instance_of_id", ids, "instance_of"),
            owner_agency_id=read.code("owner_agency_id", agencies, "owner"),
            operator_agency_id=read.code("operator_agency_id", agencies, "operator"),
            user_agency_ids=read.codes("user_agency_ids", agencies, "users"),
            capability_ids=read.codes("capability_ids", capabilities, "capabilities"),
            data_domain_ids=read.codes("data_domain_ids", domains, "data_domains"),
        )
        try:
            system = create_system(
                session, data, actor=SEED_ACTOR, registered_year=year, external_id=EXTERNAL_PREFIX + key
            )
        except ValidationError as exc:
            for name, messages in exc.errors.items():
                for message in messages:
                    read.fail(name, str(message))
            continue
        assert system.id is not None
        ids[key] = system.id
        created.append((ctx, key, record, system.id))
        report.count("systems", True)

    for ctx, key, record, system_id in created:
        _load_edges(session, ctx, key, record, system_id, ids, report)
        _load_usage(session, ctx, key, record, system_id, report)
    session.flush()


def _plain_value(read: _Converter, record: dict[str, Any], name: str) -> Any:
    """A plain field of a seed record, read by its declared type (relations are read by code)."""
    if name in INTEGER_FIELDS:
        return read.integer(name)
    if name in DATE_FIELDS:
        return read.day(name)
    if name in BOOLEAN_FIELDS:
        return bool(record.get(name))
    if name == "status":
        return str(record.get(name) or "")
    return record.get(name)


def _records(ctx: _Context, where: str, value: Any, what: str) -> Iterable[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        ctx.problem(where, f"{what} must be a list of records")
        return []
    return value


def _load_edges(
    session: Session,
    ctx: _Context,
    key: str,
    record: dict[str, Any],
    system_id: int,
    ids: dict[str, int],
    report: SeedReport,
) -> None:
    seen: set[tuple[int, str]] = set()
    for edge in _records(ctx, f"system {key}", record.get("depends_on"), "depends_on"):
        where = f"system {key}: dependency on {edge.get('system')}"
        target = ids.get(edge.get("system"))  # type: ignore[arg-type]  # a YAML value; a missing key finds nothing
        kind = str(edge.get("kind") or "")
        if target is None:
            ctx.problem(where, "the system depended on does not exist")
        elif target == system_id:
            ctx.problem(where, "a system cannot depend on itself")
        elif kind not in DependencyKind._value2member_map_:
            ctx.problem(where, f"kind must be one of {', '.join(DependencyKind)}")
        elif (target, kind) in seen:
            ctx.problem(where, "listed twice")
        else:
            seen.add((target, kind))
            session.add(
                Dependency(source_id=system_id, target_id=target, kind=kind, note=_text(edge, "note"))
            )
            report.count("dependencies", True)


_USAGE_FIELDS: tuple[tuple[str, Callable[[_Converter, str], Any]], ...] = (
    ("period_start", _Converter.day),
    ("period_end", _Converter.day),
    ("active_users", _Converter.integer),
    ("transactions", _Converter.integer),
    ("cost_vnd", _Converter.integer),
)


def _load_usage(
    session: Session, ctx: _Context, key: str, record: dict[str, Any], system_id: int, report: SeedReport
) -> None:
    for index, raw in enumerate(
        _records(ctx, f"system {key}", record.get("usage_reports"), "usage_reports"), 1
    ):
        read = _Converter(ctx, f"system {key}: usage report {index}", raw)
        values = {name: reader(read, name) for name, reader in _USAGE_FIELDS}
        if values["period_start"] is None or values["period_end"] is None:
            read.fail("period_start", "period_start and period_end are required")
            continue
        if values["period_end"] < values["period_start"]:
            read.fail("period_end", "the period ends before it starts")
            continue
        if any(values[n] is not None and values[n] < 0 for n in ("active_users", "transactions", "cost_vnd")):
            read.fail("active_users", "figures cannot be negative")
            continue
        session.add(UsageReport(system_id=system_id, note=_text(raw, "note"), **values))
        report.count("usage_reports", True)


def _load_users(
    session: Session, path: Path, hasher: PasswordHasher, report: SeedReport, problems: list[str]
) -> None:
    """Create the demo accounts that do not exist yet, flagged ``is_demo``."""
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise SeedError([f"{path.name}: cannot be read: {exc}"]) from exc
    password = str(document.get("password") or "")
    agencies = ids_by_code(session, Agency)
    existing = set(session.scalars(select(col(User.username))))
    for index, record in enumerate(document.get("users") or [], 1):
        where = f"{path.name}: user {index} ({record.get('username')})"
        if record.get("username") in existing:
            report.count("users", False)
            continue
        agency_code = record.get("agency")
        if agency_code and agency_code not in agencies:
            problems.append(f"{where}: agency {agency_code} does not exist")
            continue
        data = UserInput(
            username=record.get("username"),
            full_name=record.get("full_name"),
            role=record.get("role"),
            agency_id=agencies.get(agency_code) if agency_code else None,
            password=password,
        )
        try:
            data = validate_user_input(session, data, None)
        except ValidationError as exc:
            problems.extend(
                f"{where}: {field_label(k)}: {'; '.join(map(str, v))}" for k, v in exc.errors.items()
            )
            continue
        user = User(
            username=data.username or "",
            full_name=data.full_name or "",
            role=data.role or "",
            agency_id=data.agency_id,
            is_demo=True,
            password_hash=hasher.hash(password),
        )
        session.add(user)
        session.flush()
        audit.record(
            session,
            SEED_ACTOR,
            "user.create",
            object_type="user",
            object_id=user.id,
            object_label=user.username,
            after={"username": user.username, "role": user.role, "agency": agency_code, "demo": True},
        )
        report.count("users", True)


def demo_period(today: date) -> tuple[date, date]:
    """The latest quarter that ended at least a month before ``today``."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    while True:
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + (quarter == 4), (3 * quarter) % 12 + 1, 1) - timedelta(days=1)
        if end <= today - timedelta(days=31):
            return start, end
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)


def _demo_figures(system: InformationSystem, index: int) -> UsageInput:
    """Plausible figures for a system of the demo: its users, some activity, a share of its cost."""
    users = system.active_users or (system.target_users // 2 if system.target_users else 150 + 37 * index)
    cost = system.estimated_cost_vnd // 10 if system.estimated_cost_vnd else None
    return UsageInput(active_users=users, transactions=users * (20 + index % 7), cost_vnd=cost)


def _load_rounds(
    session: Session, records: list[dict[str, Any]], report: SeedReport, problems: list[str]
) -> None:
    """Open each demo round and replay its agencies' parts through the reporting operations."""
    from registry.services import reporting
    from registry.services.usage import file_usage_report

    agencies = ids_by_code(session, Agency)
    known = set(session.scalars(select(col(ReportingRound.title))))
    today = date.today()
    for index, record in enumerate(records, 1):
        where = f"rounds.yaml: round {index}"
        title = str(record.get("title") or "")
        if title in known:
            report.count("rounds", False)
            continue
        codes = [str(c) for c in record.get("agencies") or []]
        groups = {
            key: [str(c) for c in record.get(key) or []]
            for key in ("completed", "completed_late", "in_progress")
        }
        extended = {str(k): int(v) for k, v in (record.get("extended") or {}).items()}
        corrected = {str(k): str(v) for k, v in (record.get("corrected") or {}).items()}
        unknown = [c for c in [*codes, *sum(groups.values(), []), *extended, *corrected] if c not in agencies]
        if unknown:
            problems.append(f"{where}: unknown agencies {', '.join(sorted(set(unknown)))}")
            continue
        period = demo_period(today)
        deadline = today - timedelta(days=int(record.get("deadline_days_ago") or 0))
        opened = datetime.combine(deadline - timedelta(days=30), time(9), tzinfo=UTC)
        try:
            round_ = reporting.open_round(
                session,
                reporting.RoundInput(
                    title=title,
                    period_start=period[0],
                    period_end=period[1],
                    deadline=deadline,
                    agency_ids=tuple(agencies[c] for c in codes),
                ),
                actor=SEED_ACTOR,
                today=opened.date(),
            )
        except ValidationError as exc:
            problems.extend(f"{where}: {name}: {'; '.join(map(str, m))}" for name, m in exc.errors.items())
            continue
        round_.opened_at = opened
        assert round_.id is not None
        on_time = datetime.combine(deadline - timedelta(days=3), time(10), tzinfo=UTC)
        late = datetime.combine(today - timedelta(days=1), time(15), tzinfo=UTC)
        for key, when in (("completed", on_time), ("completed_late", late), ("in_progress", on_time)):
            for code in groups[key]:
                part = reporting.agency_systems(session, round_, agencies[code])
                for position, row in enumerate(
                    part if key != "in_progress" else part[: max(1, len(part) // 2)]
                ):
                    system = row.system
                    if position == 0 and code in corrected:
                        changed = SystemInput.from_system(system).model_copy(
                            update={"overlap_justification": corrected[code]}
                        )
                        reporting.attest_system(
                            session,
                            round_.id,
                            system,
                            actor=SEED_ACTOR,
                            outcome="corrected",
                            correction=changed,
                            expected_version=system.version,
                            now=when,
                        )
                    else:
                        reporting.attest_system(
                            session, round_.id, system, actor=SEED_ACTOR, outcome="confirmed", now=when
                        )
                    if key != "in_progress":
                        figures = _demo_figures(system, position)
                        file_usage_report(
                            session,
                            system,
                            UsageInput(
                                period[0],
                                period[1],
                                figures.active_users,
                                figures.transactions,
                                figures.cost_vnd,
                            ),
                            actor=SEED_ACTOR,
                            now=when,
                        )
        for code, days in extended.items():
            reporting.extend_deadline(
                session, round_.id, agencies[code], deadline + timedelta(days=days), actor=SEED_ACTOR
            )
        report.count("rounds", True)
    session.flush()
