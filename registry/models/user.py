"""People who sign in, the API tokens they issue, and the failed logins that throttle them."""

from datetime import datetime
from typing import ClassVar, Optional

from sqlalchemy import Column, DateTime
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, Relationship, SQLModel

from registry.models.agency import Agency
from registry.models.system import utcnow


class User(SQLModel, table=True):
    """An account with one role; a submitter also belongs to one agency.

    Accounts are deactivated, never deleted, so that the audit trail always names a real
    account. ``session_epoch`` is part of the identifier stored in the session cookie: raising it
    (on deactivation, a password change or a role change) logs the account out everywhere.
    """

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16, index=True)
    agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    is_active: bool = Field(default=True)
    is_demo: bool = Field(default=False)
    session_epoch: int = Field(default=1)
    version: int = Field(default=1)
    last_login_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )

    agency: Optional[Agency] = Relationship(sa_relationship_kwargs={"lazy": "joined"})  # noqa: UP045

    # Flask-Login's user protocol, written out: its UserMixin defines __eq__ without __hash__,
    # which would make ORM instances unhashable.
    is_authenticated: ClassVar[bool] = True
    is_anonymous: ClassVar[bool] = False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:  # noqa: N805 - SQLAlchemy's declared_attr protocol
        return {"version_id_col": cls.__table__.c.version}


class ApiToken(SQLModel, table=True):
    """A bearer token for a machine client, acting for its owner within ``scope``.

    Only a SHA-256 digest of the secret is stored: the secret has 256 bits of entropy, so a
    slow hash would add nothing, and a stolen table cannot be replayed. ``prefix`` lets people
    recognise a token in lists without exposing it.
    """

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    scope: str = Field(max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    expires_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    last_used_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))

    user: User = Relationship(sa_relationship_kwargs={"lazy": "joined"})


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, kept briefly to throttle guessing per account and per address.

    It lives in the database rather than in process memory so that every web worker sees the
    same count. ``username_key`` is whatever was typed (folded), whether or not such an account
    exists, so throttling itself reveals nothing about which accounts exist.
    """

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    username_key: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
    occurred_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
