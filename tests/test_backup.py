"""``flask backup`` / ``flask restore``: a round trip keeps every row, every upload and the audit chain.

The same tests run on SQLite (the online backup API) and, with ``TEST_DATABASE_URL``, on
PostgreSQL (``pg_dump`` / ``pg_restore`` into a scratch database made and dropped here).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlmodel import Session

from registry.db import get_engine
from registry.factory import create_app
from registry.models import DataDomain, ImportUpload, User
from registry.services import backup as backup_service
from registry.services.backup import MANIFEST, BackupError, table_checksums


@pytest.fixture(scope="module")
def scratch_postgres(database_url: str) -> Iterator[str | None]:
    """On PostgreSQL, one scratch database for this module (creating one takes seconds)."""
    if database_url.startswith("sqlite"):
        yield None
        return
    url = make_url(database_url)
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def empty_database(scratch_postgres: str | None, tmp_path: Path) -> str:
    """A database with nothing in it, of the backend under test, to restore into."""
    if scratch_postgres is None:
        return f"sqlite:///{tmp_path / 'restored.sqlite3'}"
    engine = create_engine(scratch_postgres)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return scratch_postgres


@pytest.fixture
def other_app(empty_database: str, tmp_path: Path) -> Iterator[Flask]:
    """A second registry on the empty database, as the machine a backup is restored on."""
    app = create_app(
        {"TESTING": True, "DATABASE_URL": empty_database, "SECRET_KEY": "test", "AUTO_SETUP": False}
    )
    app.instance_path = str(tmp_path / "other-instance")
    yield app
    get_engine(app).dispose()


@pytest.fixture
def portfolio(session: Session, make_user: Callable[..., User]) -> None:
    """Two audited accounts and two uploads, one of them holding every byte value.

    Saving a system costs a second or more (rules, overlaps, meaning vectors), so only the
    round trip test adds one.
    """
    user = make_user("admin")
    make_user("auditor")
    for n, content in enumerate((bytes(range(256)) * 40, "Tên hệ thống;Mô tả\n".encode())):
        session.add(
            ImportUpload(
                token=f"upload-{n}",
                user_id=user.id,
                filename=f"systems-{n}.xlsx",
                format="xlsx",
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                content=content,
            )
        )
    session.commit()


def run(app: Flask, *args: str) -> Result:
    """Run a command against ``app`` (the test's own app context would otherwise win)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def checksums_of(app: Flask) -> dict[str, dict[str, object]]:
    with get_engine(app).connect() as connection:
        return table_checksums(connection)


def uploads_of(app: Flask) -> dict[str, bytes]:
    with Session(get_engine(app)) as session:
        return {upload.token: upload.content for upload in session.scalars(select(ImportUpload))}


def test_round_trip_keeps_every_row_every_upload_and_the_audit_chain(
    app: Flask, other_app: Flask, portfolio: None, make_system: Callable[..., object], tmp_path: Path
) -> None:
    make_system(name="Cổng dịch vụ công tỉnh", scope_level="province")
    before = checksums_of(app)
    uploads = uploads_of(app)
    saved = run(app, "backup", str(tmp_path / "backup"))
    assert saved.exit_code == 0, saved.output
    assert "Backup written" in saved.output
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["tables"] == before
    assert manifest["tables"]["audit_event"]["rows"] > 0
    assert manifest["tables"]["information_system"]["rows"] == 1

    restored = run(other_app, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert "checked" in restored.output
    assert checksums_of(other_app) == before
    assert uploads_of(other_app) == uploads and len(uploads) == 2
    verified = run(other_app, "audit", "verify")
    assert verified.exit_code == 0, verified.output
    assert "intact" in verified.output


def test_restore_refuses_a_database_with_tables_unless_forced(
    app: Flask, other_app: Flask, portfolio: None, tmp_path: Path
) -> None:
    folder = str(tmp_path / "nightly backup #1?")
    assert run(app, "backup", folder).exit_code == 0
    assert run(other_app, "restore", folder).exit_code == 0

    again = run(other_app, "restore", folder)
    assert again.exit_code == 1
    assert "already holds" in again.output and "--force" in again.output

    forced = run(other_app, "restore", "--force", folder)
    assert forced.exit_code == 0, forced.output
    assert checksums_of(other_app) == checksums_of(app)


def test_restore_refuses_a_backup_that_does_not_match_its_manifest(
    app: Flask, other_app: Flask, portfolio: None, tmp_path: Path
) -> None:
    run(app, "backup", str(tmp_path / "backup"))
    manifest_path = tmp_path / "backup" / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["tables"]["import_upload"]["sha256"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    result = run(other_app, "restore", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert "does not match the manifest" in result.output and "import_upload" in result.output


def test_backup_never_writes_into_an_existing_folder(app: Flask, tmp_path: Path) -> None:
    (tmp_path / "backup").mkdir()
    (tmp_path / "backup" / "notes.txt").write_text("keep me", encoding="utf-8")
    result = run(app, "backup", str(tmp_path / "backup"))
    assert result.exit_code == 1
    assert "not an empty directory" in result.output
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".backup")) == []


def test_restore_names_what_is_not_a_backup(app: Flask, tmp_path: Path) -> None:
    result = run(app, "restore", str(tmp_path))
    assert result.exit_code == 1
    assert f"has no {MANIFEST}" in result.output


def test_postgres_backup_without_pg_dump_points_to_the_procedure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backup_service.shutil, "which", lambda program: None)
    engine = create_engine("postgresql+psycopg://registry@db.invalid:5432/registry")
    with pytest.raises(BackupError, match=r"pg_dump is not installed.*docs/backup\.md"):
        backup_service.backup(engine, tmp_path / "backup")
    assert list(tmp_path.iterdir()) == []


def test_postgres_password_goes_in_the_environment_not_the_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(backup_service.shutil, "which", lambda program: f"/usr/bin/{program}")
    engine = create_engine("postgresql+psycopg://registry:s3cret@db.invalid:5433/registry")
    command, env = backup_service._postgres_command(engine, "pg_dump")
    assert command == [
        "/usr/bin/pg_dump",
        "--no-password",
        "--host",
        "db.invalid",
        "--port",
        "5433",
        "--username",
        "registry",
    ]
    assert env["PGPASSWORD"] == "s3cret"


def test_backup_runs_beside_an_open_write_and_leaves_it_out(
    app: Flask, portfolio: None, tmp_path: Path
) -> None:
    """Safe while the app runs: a write in progress neither blocks the copy nor enters it half-done."""
    before = checksums_of(app)
    with Session(get_engine(app)) as writer:
        writer.add(DataDomain(code="pending", name="Chưa lưu", name_en="Not saved yet"))
        writer.flush()
        saved = run(app, "backup", str(tmp_path / "backup"))
        writer.rollback()
    assert saved.exit_code == 0, saved.output
    manifest = json.loads((tmp_path / "backup" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["tables"] == before
