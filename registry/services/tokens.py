"""API tokens for machine clients: issued once, stored as a digest, scoped, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.choices import Role, TokenScope
from registry.errors import NotFoundError, ValidationError
from registry.models import ApiToken, User
from registry.services import audit
from registry.text import clean_line

TOKEN_PREFIX = "htr_"
MAX_LIFETIME_DAYS = 366
LAST_USED_RESOLUTION = timedelta(minutes=5)
"""``last_used_at`` is refreshed at most this often, so a busy client does not write on every call."""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass
class IssuedToken:
    token: ApiToken
    secret: str
    """Shown to its owner once; only the digest is kept."""


def issue_token(
    session: Session,
    user: User,
    *,
    name: str | None,
    scope: str,
    days: int | None,
    actor: Actor,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue a token acting for ``user``; people issue their own, admins may issue for anyone."""
    policy.ensure(
        actor.is_operator
        or (actor.user_id == user.id and policy.allows(actor, policy.Permission.MANAGE_OWN_TOKENS))
        or policy.allows(actor, policy.Permission.MANAGE_USERS)
    )
    now = now or datetime.now(UTC)
    errors: dict[str, list[object]] = {}
    name = clean_line(name)
    if not name:
        errors["name"] = [_l("Name the token after the program that will use it.")]
    elif len(name) > 100:
        errors["name"] = [
            _l("Must be at most %(limit)s characters (now %(length)s).", limit=100, length=len(name))
        ]
    if scope not in TokenScope._value2member_map_:
        errors["scope"] = [_l("Choose a valid scope.")]
    if days is None or not 1 <= days <= MAX_LIFETIME_DAYS:
        errors["days"] = [_l("A token lives from 1 to %(n)s days.", n=MAX_LIFETIME_DAYS)]
    if errors:
        raise ValidationError(errors)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,  # type: ignore[arg-type]  # ids of saved rows are set; SQLModel types them optional
        name=name or "",
        prefix=secret[:12],
        token_hash=digest(secret),
        scope=scope,
        created_at=now,
        expires_at=now + timedelta(days=days or 0),
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "token.issue",
        object_type="token",
        object_id=token.id,
        object_label=f"{user.username}: {name}",
        after={
            "user": user.username,
            "name": name,
            "scope": scope,
            "prefix": token.prefix,
            "expires_at": token.expires_at,
        },
    )
    session.flush()
    return IssuedToken(token, secret)


def revoke_token(session: Session, token_id: int, *, actor: Actor, now: datetime | None = None) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(str(token_id))
    policy.ensure(
        actor.is_operator
        or actor.user_id == token.user_id
        or policy.allows(actor, policy.Permission.MANAGE_USERS)
    )
    if token.revoked_at is None:
        token.revoked_at = now or datetime.now(UTC)
        session.flush()
        audit.record(
            session,
            actor,
            "token.revoke",
            object_type="token",
            object_id=token.id,
            object_label=f"{token.user.username}: {token.name}",
            after={"prefix": token.prefix},
        )
        session.flush()
    return token


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(col(ApiToken.user_id) == user.id).order_by(col(ApiToken.created_at).desc())
        )
    )


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def authenticate_token(
    session: Session, secret: str, *, allow_demo: bool, now: datetime | None = None
) -> ApiToken | None:
    """The live token for this secret, or ``None`` (unknown, revoked, expired, or owner inactive)."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    now = now or datetime.now(UTC)
    token = session.scalar(select(ApiToken).where(col(ApiToken.token_hash) == digest(secret)))
    if token is None or token.revoked_at is not None:
        return None
    expires = _aware(token.expires_at)
    if expires is not None and expires <= now:
        return None
    owner = token.user
    if not owner.is_active or (owner.is_demo and not allow_demo) or owner.role not in Role._value2member_map_:
        return None
    last_used = _aware(token.last_used_at)
    if last_used is None or now - last_used > LAST_USED_RESOLUTION:
        session.execute(update(ApiToken).where(col(ApiToken.id) == token.id).values(last_used_at=now))
        session.commit()
    return token
