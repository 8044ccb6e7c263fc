"""``flask users …``: accounts managed from the server, such as the first administrator."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlmodel import Session

from registry import db
from registry.auth.actor import Actor
from registry.choices import Role
from registry.errors import ValidationError
from registry.models import Agency, User
from registry.web.access import password_hasher

users_group = AppGroup("users", help="Manage accounts from the server (the first administrator).")


@users_group.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "full_name", required=True, help="The person's full name.")
@click.option("--agency", "agency_code", default=None, help="Agency code (required for submitters).")
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def users_create(username: str, role: str, full_name: str, agency_code: str | None, password: str) -> None:
    """Create an account, e.g. the first administrator."""
    from registry.services.users import UserInput, create_user

    with db.command_session() as session:
        agency_id = _agency_id(session, agency_code)
        data = UserInput(
            username=username, full_name=full_name, role=role, agency_id=agency_id, password=password
        )
        try:
            user = create_user(session, data, actor=Actor.operator("cli"), hasher=password_hasher())
        except ValidationError as exc:
            raise click.ClickException(_problems(exc)) from exc
        click.echo(f"Account {user.username} ({user.role}) created.")


@users_group.command("set-password")
@click.argument("username")
@click.password_option(help="Prompted for (hidden, twice) when not given.")
def users_set_password(username: str, password: str) -> None:
    """Set a new password (and sign the account out everywhere), e.g. for a locked-out admin."""
    from registry.services.users import UserInput, update_user, username_key

    with db.command_session() as session:
        user = session.scalar(select(User).where(User.username == username_key(username)))
        if user is None:
            raise click.ClickException(f"No account is named {username}.")
        data = UserInput(
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            agency_id=user.agency_id,
            is_active=user.is_active,
            password=password,
        )
        try:
            update_user(
                session,
                user,
                data,
                actor=Actor.operator("cli"),
                hasher=password_hasher(),
                expected_version=user.version,
            )
        except ValidationError as exc:
            raise click.ClickException(_problems(exc)) from exc
        click.echo(f"Password of {user.username} changed.")


@users_group.command("list")
def users_list() -> None:
    """List accounts: username, role, agency, state."""
    from registry.services.users import list_users

    with db.command_session() as session:
        for user in list_users(session):
            agency = user.agency.code if user.agency else "-"
            state = "active" if user.is_active else "deactivated"
            click.echo(f"{user.username}\t{user.role}\t{agency}\t{state}{'  (demo)' if user.is_demo else ''}")


def _agency_id(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    agency_id = session.scalar(select(Agency.id).where(Agency.code == code))
    if agency_id is None:
        raise click.ClickException(f"No agency has the code {code}.")
    return agency_id


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{name}: {' '.join(map(str, messages))}" for name, messages in exc.errors.items())
