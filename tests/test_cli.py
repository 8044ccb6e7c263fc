from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import Session

from registry.db import get_engine
from registry.factory import create_app
from registry.models import InformationSystem, User
from registry.services.audit import verify
from tests.conftest import sign_in


def test_db_upgrade_reports_the_revision(app):
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Schema at revision" in result.output


def test_seed_command_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "systems: 0 created" not in first.output
    second = runner.invoke(args=["seed"])
    assert second.exit_code == 0
    assert "systems: 0 created" in second.output


def test_first_start_on_an_empty_sqlite_file_sets_everything_up(tmp_path: Path):
    """The README's single run command relies on this: schema and demo data appear by themselves."""
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    app = create_app({"DATABASE_URL": url, "AUTO_SETUP": True, "SECRET_KEY": "x"})
    with Session(get_engine(app)) as session:
        assert session.scalar(select(func.count()).select_from(InformationSystem)) >= 150
        assert session.scalar(select(func.count()).select_from(User).where(User.is_demo)) == 5
        assert verify(session).ok
    again = create_app({"DATABASE_URL": url, "AUTO_SETUP": True, "SECRET_KEY": "x"})
    client = again.test_client()
    assert client.get("/systems/").status_code == 302  # to the login page
    sign_in(client, "admin", "demo-registry-2026")  # the demo password in the README
    assert client.get("/systems/").status_code == 200
    get_engine(app).dispose()
    get_engine(again).dispose()
