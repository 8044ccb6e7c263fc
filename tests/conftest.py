"""Shared fixtures: an app on SQLite (default) or PostgreSQL (``TEST_DATABASE_URL``), factories.

The schema is built once per test session by the real Alembic migrations, so every run also
proves the migrations; each test then starts from empty tables.
"""

from __future__ import annotations

import contextvars
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from registry import migrate
from registry.auth.actor import Actor
from registry.db import get_engine
from registry.factory import create_app
from registry.models import Agency, Capability, DataDomain, DuplicateWarning, InformationSystem, User
from registry.services.systems import SystemInput, create_system
from registry.services.tokens import issue_token
from registry.services.users import UserInput, create_user
from registry.web.access import password_hasher

OPERATOR = Actor.operator("test")
"""The actor of test set-up: trusted like the command line, and audited."""
PASSWORD = "correct horse battery staple"

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Tests never write into the checkout's instance folder: apps made outside the ``app`` fixture
# (a warmed worker, a second process, a command) shared its job queue and index snapshots,
# so one test's snapshot was loaded by another's worker.
os.environ["REGISTRY_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="registry-tests-")


def _database_url(tmp_dir: Path) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_dir / 'test.sqlite3'}"
    from registry.config import normalise_database_url

    url = normalise_database_url(url)
    database = make_url(url).database or ""
    if "test" not in database:
        raise pytest.UsageError(f"TEST_DATABASE_URL must name a test database, not {database!r}")
    return url


def _reset_schema(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _database_url(tmp_path_factory.mktemp("db"))


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    app = create_app(
        {"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test", "AUTO_SETUP": False}
    )
    engine = get_engine(app)
    _reset_schema(engine)
    engine.dispose()
    return database_url


def _empty_tables(engine: Engine) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


class IsolatedClient(FlaskClient):
    """Runs each request in a fresh context, as a real server does.

    Tests keep an app context pushed (the ``session`` fixture); Flask would reuse it for every
    request, sharing ``g`` (the signed-in user, the locale, the database session) between
    requests and between clients of different people.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Streamed responses are read inside that context too, where their request lives.
        kwargs.setdefault("buffered", True)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(_schema: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": _schema,
            "SECRET_KEY": "test",
            "AUTO_SETUP": False,
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_PROFILE": "fast-for-tests",
        }
    )
    app.instance_path = str(tmp_path)
    app.test_client_class = IsolatedClient
    yield app
    engine = get_engine(app)
    _empty_tables(engine)
    engine.dispose()


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


@pytest.fixture
def anon_client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: FlaskClient, username: str, password: str = PASSWORD) -> FlaskClient:
    data = {"username": username, "password": password}
    if client.application.config.get("WTF_CSRF_ENABLED", True):
        data["csrf_token"] = csrf_token_of(client.get("/login").text)
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.text
    return client


@pytest.fixture
def make_user(app: Flask, session: Session) -> Callable[..., User]:
    """Create an account through the real service (Argon2 at its cheapest, for speed)."""
    counter = iter(range(1, 10_000))

    def make(role: str = "admin", **overrides: Any) -> User:
        values: dict[str, Any] = {
            "username": f"{role}{next(counter)}",
            "full_name": f"Test {role}",
            "role": role,
            "password": PASSWORD,
        }
        values.update(overrides)
        user = create_user(session, UserInput(**values), actor=OPERATOR, hasher=password_hasher(app))
        session.commit()
        return user

    return make


@pytest.fixture
def client_for(app: Flask, make_user: Callable[..., User]) -> Callable[..., FlaskClient]:
    """A test client signed in as a new account of ``role`` (for submitters, of ``agency_id``)."""

    def make(role: str = "admin", **overrides: Any) -> FlaskClient:
        user = make_user(role, **overrides)
        return sign_in(app.test_client(), user.username)

    return make


@pytest.fixture
def client(client_for: Callable[..., FlaskClient]) -> FlaskClient:
    """Signed in as an administrator, who may open every page and edit any system."""
    return client_for("admin", username="admin")


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with app.app_context(), Session(get_engine(app), expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """An app made outside testing mode configures the root logger (its handler and level):
    put it back, so one test's app does not change what the next test's logs do."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """In CI a skip is a failure: a missing browser or database must not pass silently."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run everything: {report.longrepr}"


# --- factories -------------------------------------------------------------------------------


@pytest.fixture
def make_agency(session: Session) -> Callable[..., Agency]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Agency:
        n = next(counter)
        values: dict[str, Any] = {
            "code": f"AG-{n}",
            "name": f"Cơ quan {n}",
            "level": "central",
            "block": "party",
        }
        values.update(overrides)
        agency = Agency(**values)
        session.add(agency)
        session.commit()
        return agency

    return make


@pytest.fixture
def make_capability(session: Session) -> Callable[..., Capability]:
    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Capability:
        n = next(counter)
        values: dict[str, Any] = {"code": f"cap_{n}", "name": f"Chức năng {n}", "name_en": f"Capability {n}"}
        values.update(overrides)
        capability = Capability(**values)
        session.add(capability)
        session.commit()
        return capability

    return make


@pytest.fixture
def make_data_domain(session: Session) -> Callable[..., DataDomain]:
    def make(**overrides: Any) -> DataDomain:
        values: dict[str, Any] = {"code": "documents", "name": "Văn bản", "name_en": "Documents"}
        values.update(overrides)
        domain = DataDomain(**values)
        session.add(domain)
        session.commit()
        return domain

    return make


@pytest.fixture
def make_system(session: Session, make_agency: Callable[..., Agency]) -> Callable[..., InformationSystem]:
    """Register a valid draft through the real service; keyword overrides change any field."""
    default_owner: list[Agency] = []

    def make(**overrides: Any) -> InformationSystem:
        if "owner_agency_id" not in overrides:
            if not default_owner:
                default_owner.append(make_agency(code="OWNER", name="Văn phòng Trung ương Đảng"))
            overrides["owner_agency_id"] = default_owner[0].id
        registered_year = overrides.pop("registered_year", None)
        values: dict[str, Any] = {
            "name": "Hệ thống quản lý văn bản và điều hành",
            "description": "Quản lý văn bản đến, văn bản đi và hồ sơ công việc.",
            "status": "draft",
            "scope_level": "central",
        }
        values.update(overrides)
        system = create_system(
            session, SystemInput.of(**values), actor=OPERATOR, registered_year=registered_year
        )
        session.commit()
        return system

    return make


def only_these_warnings(session: Session, *warnings: DuplicateWarning) -> None:
    """Replace the warnings the saves stored with hand-made ones a test reasons about."""
    session.execute(delete(DuplicateWarning))
    session.add_all(warnings)
    session.commit()


def api_tokens(session: Session, users: dict[str, User]) -> dict[str, str]:
    """A write token per account of ``users`` (keyed by role), and under ``read`` a read-only
    token of the ``admin`` account: what the API tests send as ``Authorization: Bearer``."""
    tokens = {
        role: issue_token(session, user, name="sync", scope="write", days=30, actor=OPERATOR).secret
        for role, user in users.items()
    }
    tokens["read"] = issue_token(
        session, users["admin"], name="read", scope="read", days=30, actor=OPERATOR
    ).secret
    session.commit()
    return tokens


def proposal_fields(make_agency: Callable[..., Agency], capability: Capability) -> dict[str, Any]:
    """Governance fields that make a proposal complete, for tests that need one."""
    operator = make_agency(name="Cục Bưu điện Trung ương")
    user = make_agency(name="Tỉnh ủy Nghệ An", level="province", block="locality")
    return {
        "operator_agency_id": operator.id,
        "user_agency_ids": [user.id],
        "legal_basis": "Quyết định số 204-QĐ/TW",
        "mandate": "Kế hoạch 02-KH/BCĐTW, nhiệm vụ 12",
        "usage_orientation": "Dùng chung cho các cơ quan Đảng",
        "security_level": 3,
        "target_users": 5000,
        "capability_ids": [capability.id],
    }


# --- browser ---------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: install Debian's chromium package"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
