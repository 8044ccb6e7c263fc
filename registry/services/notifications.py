"""In-app notifications, with an outbox row per message so e-mail can be added later."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlmodel import Session, col

from registry.models import InformationSystem, Notification, OutboxMessage, User

KIND_LABELS: dict[str, object] = {
    "submitted": _l("New proposal submitted for review"),
    "start_review": _l("Your proposal is being reviewed"),
    "approve": _l("Your proposal was approved"),
    "request_changes": _l("Changes were requested on your proposal"),
    "reject": _l("Your proposal was rejected"),
    "round_opened": _l("A reporting round asks your agency to attest its systems and report usage"),
    "round_reminder": _l("Reminder: your agency has not completed its report"),
}


def kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def notify(
    session: Session, users: Iterable[User], kind: str, system: InformationSystem, details: dict[str, Any]
) -> int:
    count = 0
    for user in users:
        session.add(Notification(user_id=user.id, kind=kind, system_id=system.id, details=details))  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        # Outbox text is in the registry's default language; delivery is a later worker's job.
        body = f"{system.code} — {system.name}\n{details.get('reason') or ''}".strip()
        session.add(OutboxMessage(user_id=user.id, subject=f"[{system.code}] {kind}", body=body))  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        count += 1
    return count


def notify_round(session: Session, users: Iterable[User], kind: str, details: dict[str, Any]) -> int:
    """Tell accounts about a reporting round (opened, or a reminder); ``details`` names the round."""
    count = 0
    with force_locale("vi"):  # the outbox speaks the registry's default language
        subject = f"{kind_label(kind)}: {details.get('round')}"[:300]
        lines = [
            str(details.get("round") or ""),
            gettext("Deadline: %(day)s", day=details.get("deadline")),
        ]
        if details.get("days_late"):
            lines.append(gettext("%(days)s days late", days=details["days_late"]))
    for user in users:
        session.add(Notification(user_id=user.id, kind=kind, details=details))  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        session.add(OutboxMessage(user_id=user.id, subject=subject, body="\n".join(lines)))  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        count += 1
    return count


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        )
        or 0
    )


def recent(
    session: Session, user_id: int, limit: int = 50
) -> list[tuple[Notification, InformationSystem | None]]:
    rows = session.execute(
        select(Notification, InformationSystem)
        .outerjoin(InformationSystem, col(InformationSystem.id) == col(Notification.system_id))
        .where(col(Notification.user_id) == user_id)
        .order_by(col(Notification.created_at).desc(), col(Notification.id).desc())
        .limit(limit)
    )
    return [(n, s) for n, s in rows]


def mark_all_read(session: Session, user_id: int) -> None:
    session.execute(
        update(Notification)
        .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
        .values(read_at=datetime.now(UTC))
    )
    session.flush()
