"""Signing in: password checks with throttling that is shared by every web worker.

Failures are counted per typed username and per client address over a sliding window. A
throttled attempt is refused before the password is even checked, with the same message
whether or not the account exists, so neither guessing nor probing for accounts gets far.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from registry.auth.passwords import PasswordHasher
from registry.models import LoginFailure, User
from registry.services.users import username_key

WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
"""Failed attempts on one username within the window before it is throttled."""
ADDRESS_LIMIT = 20
"""Failed attempts from one address (any usernames) within the window before it is throttled."""


@dataclass
class LoginResult:
    user: User | None = None
    retry_after: timedelta | None = None

    @property
    def throttled(self) -> bool:
        return self.retry_after is not None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _retry_after(
    session: Session, condition: ColumnElement[bool], limit: int, now: datetime
) -> timedelta | None:
    since = now - WINDOW
    rows = session.execute(
        select(func.count(), func.min(col(LoginFailure.occurred_at))).where(
            condition, col(LoginFailure.occurred_at) > since
        )
    ).one()
    count, oldest = rows
    if count < limit or oldest is None:
        return None
    return max(_aware(oldest) + WINDOW - now, timedelta(seconds=1))


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    address: str,
    hasher: PasswordHasher,
    allow_demo: bool,
    now: datetime | None = None,
) -> LoginResult:
    """Check a sign-in attempt; record a failure or clear the account's failures on success."""
    now = now or datetime.now(UTC)
    key = username_key(username)
    address = (address or "unknown")[:64]
    waits = [
        _retry_after(session, col(LoginFailure.username_key) == key, ACCOUNT_LIMIT, now),
        _retry_after(session, col(LoginFailure.address) == address, ADDRESS_LIMIT, now),
    ]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        return LoginResult(retry_after=wait)

    user = session.scalar(select(User).where(col(User.username) == key)) if key else None
    valid = hasher.verify(user.password_hash if user else None, password)
    usable = user is not None and user.is_active and (allow_demo or not user.is_demo)
    if not (valid and usable):
        session.add(LoginFailure(username_key=key, address=address, occurred_at=now))
        session.execute(delete(LoginFailure).where(col(LoginFailure.occurred_at) < now - 2 * WINDOW))
        session.commit()
        return LoginResult()
    assert user is not None
    session.execute(delete(LoginFailure).where(col(LoginFailure.username_key) == key))
    values: dict[str, object] = {"last_login_at": now}
    if hasher.needs_rehash(user.password_hash):
        values["password_hash"] = hasher.hash(password)
    # A Core UPDATE: signing in must not bump the version an administrator may be editing.
    session.execute(update(User).where(col(User.id) == user.id).values(**values))
    session.commit()
    session.refresh(user)
    return LoginResult(user=user)
