"""Accounts: creating and changing them, with the rules that keep the registry governable."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.auth.passwords import PasswordHasher, password_problems
from registry.choices import Role
from registry.errors import StaleEditError, ValidationError
from registry.models import Agency, User
from registry.services import audit
from registry.services.locking import refused_if_stale
from registry.text import clean_line

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


def username_key(username: str | None) -> str:
    """Usernames are compared case-insensitively and without surrounding spaces."""
    return (clean_line(username) or "").casefold()[:64]


@dataclass
class UserInput:
    username: str | None = None
    full_name: str | None = None
    role: str | None = None
    agency_id: int | None = None
    is_active: bool = True
    password: str | None = None


def _snapshot(session: Session, user: User) -> dict[str, object]:
    agency = session.get(Agency, user.agency_id) if user.agency_id else None
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "agency": agency.code if agency else None,
        "is_active": user.is_active,
    }


def validate_user_input(session: Session, data: UserInput, user: User | None) -> UserInput:
    errors: dict[str, list[object]] = {}
    username = username_key(data.username)
    full_name = clean_line(data.full_name)
    if user is None:
        if not USERNAME_PATTERN.match(username):
            errors["username"] = [
                _l(
                    "Use 3 to 64 lower-case letters, digits, dots, dashes or underscores, "
                    "starting with a letter or digit."
                )
            ]
        elif session.scalar(select(col(User.id)).where(col(User.username) == username)) is not None:
            errors["username"] = [_l("This username is taken.")]
    if not full_name:
        errors["full_name"] = [_l("Enter the person's name.")]
    elif len(full_name) > 200:
        errors["full_name"] = [
            _l("Must be at most %(limit)s characters (now %(length)s).", limit=200, length=len(full_name))
        ]
    if data.role not in Role._value2member_map_:
        errors["role"] = [_l("Choose a valid role.")]
    if data.agency_id is not None and session.get(Agency, data.agency_id) is None:
        errors["agency_id"] = [_l("This agency does not exist.")]
    elif data.role == Role.SUBMITTER and data.agency_id is None:
        errors["agency_id"] = [_l("A submitter registers systems for one agency: choose it.")]
    if data.password is not None or user is None:
        problems = password_problems(data.password or "", username)
        if problems:
            errors["password"] = problems
    if errors:
        raise ValidationError(errors)
    return UserInput(username, full_name, data.role, data.agency_id, data.is_active, data.password)


def create_user(
    session: Session, data: UserInput, *, actor: Actor, hasher: PasswordHasher, is_demo: bool = False
) -> User:
    policy.ensure(policy.allows(actor, policy.Permission.MANAGE_USERS))
    data = validate_user_input(session, data, None)
    user = User(
        username=data.username or "",
        full_name=data.full_name or "",
        role=data.role or "",
        agency_id=data.agency_id,
        is_active=data.is_active,
        is_demo=is_demo,
        password_hash=hasher.hash(data.password or ""),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor,
        "user.create",
        object_type="user",
        object_id=user.id,
        object_label=user.username,
        after=_snapshot(session, user),
    )
    session.flush()
    return user


def _active_admins(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(User)
            .where(col(User.role) == Role.ADMIN, col(User.is_active).is_(True))
        )
        or 0
    )


def update_user(
    session: Session,
    user: User,
    data: UserInput,
    *,
    actor: Actor,
    hasher: PasswordHasher,
    expected_version: int | None,
) -> User:
    """Change an account; a change of role, agency, state or password logs it out everywhere.

    The last active administrator cannot be demoted or deactivated: nobody could then manage
    accounts without shell access to the server.
    """
    policy.ensure(policy.allows(actor, policy.Permission.MANAGE_USERS))
    if expected_version != user.version:
        raise StaleEditError(user.version, expected_version)
    data = validate_user_input(session, data, user)
    loses_admin = (
        user.role == Role.ADMIN and user.is_active and (data.role != Role.ADMIN or not data.is_active)
    )
    if loses_admin and _active_admins(session) <= 1:
        raise ValidationError(
            {"role": [_l("This is the last active administrator; appoint another one first.")]}
        )
    before = _snapshot(session, user)
    user.full_name = data.full_name or ""
    user.role = data.role or ""
    user.agency_id = data.agency_id
    user.is_active = data.is_active
    changed_password = bool(data.password)
    if changed_password:
        user.password_hash = hasher.hash(data.password or "")
    old, new = audit.changes(before, _snapshot(session, user))
    if changed_password:
        # Audit values are data, not interface text; the hash itself is never written there.
        old["password"], new["password"] = "previous", "changed"
    if not new:
        return user
    if {"role", "agency", "is_active", "password"} & new.keys():
        user.session_epoch += 1
    user.updated_at = datetime.now(UTC)
    with refused_if_stale(session, user, expected_version):
        session.flush()
    audit.record(
        session,
        actor,
        "user.update",
        object_type="user",
        object_id=user.id,
        object_label=user.username,
        before=old,
        after=new,
    )
    session.flush()
    return user


def change_own_password(
    session: Session,
    user: User,
    *,
    current: str,
    new: str,
    hasher: PasswordHasher,
    actor: Actor,
    confirmation: str | None = None,
) -> None:
    """Change one's own password after proving the current one; other sessions are logged out.

    ``confirmation`` is the new password typed a second time, where a form asks for it: a typo
    in a password nobody can see would lock its owner out. Every problem is reported at once.
    """
    errors: dict[str, list[object]] = {}
    if not hasher.verify(user.password_hash, current):
        errors["current_password"] = [_l("The current password is not correct.")]
    problems = password_problems(new, user.username)
    if problems:
        errors["new_password"] = problems
    elif current and new == current:
        errors["new_password"] = [_l("Choose a password different from the current one.")]
    if confirmation is not None and confirmation != new:
        errors["confirm_password"] = [_l("The two new passwords differ: type the same one twice.")]
    if errors:
        raise ValidationError(errors)
    user.password_hash = hasher.hash(new)
    user.session_epoch += 1
    user.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(
        session,
        actor,
        "user.password",
        object_type="user",
        object_id=user.id,
        object_label=user.username,
        after={"password": "changed"},
    )
    session.flush()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(session: Session) -> list[User]:
    return list(
        session.scalars(select(User).order_by(col(User.is_active).desc(), col(User.role), col(User.username)))
    )
