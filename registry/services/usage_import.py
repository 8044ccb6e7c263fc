"""Importing usage reports from a file: preview every row, then file them all or none.

Each row goes through :func:`registry.services.usage.file_usage_report`, the operation the
system's page and the API use, so an import stores and audits exactly what the form would.
The file is kept between preview and commit (as the systems' import keeps its uploads).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.errors import NotFoundError, PermissionDeniedError, ValidationError
from registry.fields import field_label
from registry.interchange.usage_table import CellError, day, read_usage_table, whole_number
from registry.models import ImportUpload, InformationSystem, UsageReport
from registry.services.usage import (
    USAGE_FIELDS,
    UsageInput,
    check_may_report,
    file_usage_report,
    validate_usage_input,
)

UPLOAD_FORMAT = "usage"


@dataclass
class UsageRow:
    location: str
    code: str
    data: UsageInput | None
    action: str
    """``new``, ``correct``, ``unchanged`` or ``refused``."""
    system: InformationSystem | None = None
    problems: list[tuple[str, object]] = field(default_factory=list)


@dataclass
class UsagePlan:
    rows: list[UsageRow]
    problems: list[tuple[str, str, object]]
    """``(location, column, message)`` for every problem, file-level ones first."""

    def _count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def new(self) -> int:
        return self._count("new")

    @property
    def corrections(self) -> int:
        return self._count("correct")

    @property
    def unchanged(self) -> int:
        return self._count("unchanged")

    @property
    def refused(self) -> int:
        return self._count("refused")


def plan_usage_import(
    session: Session, actor: Actor, filename: str, data: bytes, *, today: date | None = None
) -> UsagePlan:
    """Read and check every row as :func:`file_usage_report` would, writing nothing."""
    policy.ensure(policy.allows(actor, policy.Permission.REPORT_USAGE))
    source = read_usage_table(filename, data)
    problems: list[tuple[str, str, object]] = list(source.problems)
    codes = {str(r.values.get("system_code") or "").strip().upper() for r in source.records}
    systems = {
        s.code: s
        for s in session.scalars(select(InformationSystem).where(col(InformationSystem.code).in_(codes)))
    }
    rows: list[UsageRow] = []
    seen: dict[tuple[str, date, date], str] = {}
    for record in source.records:
        code = str(record.values.get("system_code") or "").strip().upper()
        row = UsageRow(record.location, code, None, "refused")
        rows.append(row)
        values: dict[str, object] = {}
        for name in USAGE_FIELDS:
            raw = record.values.get(name)
            try:
                if name in ("period_start", "period_end"):
                    values[name] = day(raw)
                elif name == "note":
                    values[name] = None if raw is None else str(raw)
                else:
                    values[name] = whole_number(raw)
            except CellError as exc:
                row.problems.append((name, exc.message))
        system = systems.get(code)
        if not code:
            row.problems.append(("system_code", _l("Give the system's public code.")))
        elif system is None:
            row.problems.append(("system_code", _l("No system has the code %(code)s.", code=code)))
        else:
            row.system = system
            try:
                check_may_report(actor, system)
            except PermissionDeniedError as exc:
                row.problems.append(("system_code", exc.message))
            except ValidationError as exc:
                row.problems += [("system_code", m) for messages in exc.errors.values() for m in messages]
        if not row.problems:
            try:
                row.data = validate_usage_input(UsageInput(**values), today=today)  # type: ignore[arg-type]  # read by column above
            except ValidationError as exc:
                row.problems += [(name, m) for name, messages in exc.errors.items() for m in messages]
        if row.data is not None and not row.problems and row.system is not None:
            key = (code, row.data.period_start, row.data.period_end)
            if key in seen:
                row.problems.append(
                    ("period_start", _l("The same system and period are on %(other)s.", other=seen[key]))
                )
            else:
                seen[key] = row.location  # type: ignore[index]  # both dates were validated
                row.action = _action(session, row.system, row.data)
        for column, message in row.problems:
            problems.append((row.location, str(field_label(column)), message))
        if row.problems:
            row.action = "refused"
    return UsagePlan(rows, problems)


def _action(session: Session, system: InformationSystem, data: UsageInput) -> str:
    existing = session.scalar(
        select(UsageReport).where(
            col(UsageReport.system_id) == system.id,
            col(UsageReport.period_start) == data.period_start,
            col(UsageReport.period_end) == data.period_end,
        )
    )
    if existing is None:
        return "new"
    same = all(getattr(existing, name) == getattr(data, name) for name in USAGE_FIELDS)
    return "unchanged" if same else "correct"


def commit_usage_import(session: Session, actor: Actor, plan: UsagePlan, *, today: date | None = None) -> int:
    """File every row of a plan without problems; return how many reports changed. Flushes."""
    if plan.problems:
        raise ValidationError({"file": [_l("The file has problems; nothing was imported.")]})
    filed = 0
    for row in plan.rows:
        assert row.system is not None and row.data is not None
        _report, changed = file_usage_report(session, row.system, row.data, actor=actor, today=today)
        filed += changed
    return filed


def stage(session: Session, actor: Actor, filename: str, data: bytes) -> ImportUpload:
    """Keep the uploaded file between its preview and its commit; a token names it."""
    policy.ensure(policy.allows(actor, policy.Permission.REPORT_USAGE))
    assert actor.user_id is not None
    upload = ImportUpload(
        token=secrets.token_urlsafe(24),
        user_id=actor.user_id,
        filename=(filename or "usage.csv")[-255:],
        format=UPLOAD_FORMAT,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )
    session.add(upload)
    session.flush()
    return upload


def staged(session: Session, actor: Actor, token: str) -> ImportUpload:
    """The actor's own, not yet committed usage upload; anything else is "not found"."""
    upload = session.scalar(select(ImportUpload).where(col(ImportUpload.token) == token))
    if (
        upload is None
        or upload.user_id != actor.user_id
        or upload.format != UPLOAD_FORMAT
        or upload.committed_at is not None
    ):
        raise NotFoundError(token)
    return upload
