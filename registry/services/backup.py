"""Backups and restores of the whole database, checked row by row against a manifest.

A backup is a directory, written under a temporary name and renamed when complete, so a
half-written backup never looks like a finished one:

- ``manifest.json``: format, time, backend, schema revision, and every table's row count and
  checksum, taken from the same snapshot as the copy;
- ``registry.sqlite3`` on SQLite: the database copied with SQLite's online backup API, which is
  consistent and safe while the app runs (a reader in WAL mode blocks no writer);
- ``registry.pgdump`` on PostgreSQL: ``pg_dump --format=custom`` run on a snapshot exported from
  the transaction that computes the checksums, so the two describe the same instant.

Uploaded import files live in the database (``import_upload.content``), so the copy carries
every upload; nothing outside the database needs saving (the instance folder holds only caches
and, on SQLite, the job queue's transient messages). A restore checks the backup against its
manifest, refuses to replace a database that holds tables unless forced, and checks the result
against the manifest again. Backups write no audit event: the restored audit trail must be the
one that was saved, byte for byte, and still verify.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine

__all__ = [
    "BackupError",
    "Manifest",
    "backup",
    "read_manifest",
    "restore",
    "table_checksums",
]

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "registry.sqlite3"
POSTGRES_FILE = "registry.pgdump"
_MODULUS = 2**256
DOCUMENTED_PROCEDURE = "docs/backup.md"


class BackupError(RuntimeError):
    """A backup or restore that must not go on; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    """What a backup holds: enough to check a restore row for row."""

    backend: str
    created_at: str
    schema_revision: str | None
    tables: dict[str, dict[str, Any]]
    database_file: str

    @property
    def rows(self) -> int:
        return sum(int(table["rows"]) for table in self.tables.values())

    def summary(self) -> str:
        return (
            f"{len(self.tables)} tables, {self.rows} rows, schema {self.schema_revision or 'empty'}, "
            f"taken {self.created_at} ({self.backend})"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "backend": self.backend,
            "created_at": self.created_at,
            "schema_revision": self.schema_revision,
            "database_file": self.database_file,
            "tables": self.tables,
        }


def table_checksums(connection: Connection) -> dict[str, dict[str, Any]]:
    """Row count and checksum of every table, read through ``connection``.

    The checksum is the sum of the rows' SHA-256 digests modulo 2**256: it does not depend on
    the order the database returns rows in (which a restore may change), yet changes with any
    value of any row. Rows are streamed, so memory stays flat on a large database.
    """
    quote = connection.dialect.identifier_preparer.quote
    sums: dict[str, dict[str, Any]] = {}
    for name in sorted(inspect(connection).get_table_names()):
        total = rows = 0
        result = connection.execution_options(stream_results=True).execute(
            text(f"SELECT * FROM {quote(name)}")
        )
        for row in result:
            digest = hashlib.sha256(repr(tuple(row)).encode()).digest()
            total = (total + int.from_bytes(digest, "big")) % _MODULUS
            rows += 1
        sums[name] = {"rows": rows, "sha256": f"{total:064x}"}
    return sums


def read_manifest(folder: Path) -> Manifest:
    path = folder / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} is not a backup: it has no {MANIFEST}.") from None
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} cannot be read: {exc}") from exc
    if data.get("format") != FORMAT:
        raise BackupError(f"{path} is of format {data.get('format')!r}; this version reads format {FORMAT}.")
    return Manifest(
        backend=data["backend"],
        created_at=data["created_at"],
        schema_revision=data.get("schema_revision"),
        tables=data["tables"],
        database_file=data["database_file"],
    )


def backup(engine: Engine, target: Path) -> Manifest:
    """Copy the database behind ``engine`` into the new directory ``target``."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} already exists and is not an empty directory; name a new one.")
    backend = engine.dialect.name
    if backend not in {"sqlite", "postgresql"}:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {backend}.")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        if backend == "sqlite":
            tables = _backup_sqlite(engine, work / SQLITE_FILE)
            database_file = SQLITE_FILE
        else:
            tables = _backup_postgres(engine, work / POSTGRES_FILE)
            database_file = POSTGRES_FILE
        manifest = Manifest(
            backend=backend,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            schema_revision=tables.get("alembic_version", {}).get("revision"),
            tables={name: {"rows": t["rows"], "sha256": t["sha256"]} for name, t in tables.items()},
            database_file=database_file,
        )
        (work / MANIFEST).write_text(json.dumps(manifest.as_json(), indent=2) + "\n", encoding="utf-8")
        if target.exists():
            target.rmdir()
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _with_revision(connection: Connection, tables: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    if "alembic_version" in tables:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        tables["alembic_version"] = {**tables["alembic_version"], "revision": revision}
    return tables


def _backup_sqlite(engine: Engine, copy: Path) -> dict[str, dict[str, Any]]:
    with engine.connect() as connection:
        source = connection.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        destination = sqlite3.connect(copy)
        try:
            # One pass, in one read transaction: a consistent snapshot; in WAL mode writers go on.
            source.backup(destination)
            # A single self-contained file, with no -wal beside it.
            destination.execute("PRAGMA journal_mode=DELETE")
        finally:
            destination.close()
    return _sqlite_checksums(copy)


def _sqlite_checksums(path: Path) -> dict[str, dict[str, Any]]:
    """Checksums of an SQLite file opened read-only, so checking a backup never changes it."""
    engine = create_engine("sqlite://", creator=lambda: _read_only(path))
    try:
        with engine.connect() as connection:
            return _with_revision(connection, table_checksums(connection))
    finally:
        engine.dispose()


def _read_only(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only (an URI, quoted: a folder may be called "nightly #1")."""
    return sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True, check_same_thread=False)


def _postgres_command(engine: Engine, program: str) -> tuple[list[str], dict[str, str]]:
    """The program with the engine's connection settings; the password goes in the environment."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(
            f"{program} is not installed (Debian: apt-get install postgresql-client, of the server's "
            f"major version). Without it, follow the procedure in {DOCUMENTED_PROCEDURE}."
        )
    url = engine.url
    command = [executable, "--no-password"]
    for option, value in (("--host", url.host), ("--port", url.port), ("--username", url.username)):
        if value:
            command += [option, str(value)]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return command, env


def _run(command: list[str], env: Mapping[str, str]) -> None:
    finished = subprocess.run(command, env=dict(env), capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {finished.stderr.strip() or finished.returncode}")


def _backup_postgres(engine: Engine, copy: Path) -> dict[str, dict[str, Any]]:
    command, env = _postgres_command(engine, "pg_dump")
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            # pg_dump reads the snapshot this transaction exported: the checksums describe the
            # very rows it dumps, however busy the database is meanwhile.
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            _run(
                [
                    *command,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={copy}",
                    "--dbname",
                    str(engine.url.database),
                ],
                env,
            )
            return _with_revision(connection, table_checksums(connection))


def restore(engine: Engine, source: Path, *, force: bool = False) -> Manifest:
    """Replace the database behind ``engine`` with the backup in ``source``, then check it.

    Refuses a database that already holds tables unless ``force``: a restore replaces
    everything in it. Stop the web and queue workers first; they keep state read from the
    database (the overlap index, the queue) that a restore would leave behind.
    """
    manifest = read_manifest(source)
    backend = engine.dialect.name
    if manifest.backend != backend:
        raise BackupError(
            f"This backup is of a {manifest.backend} database; the configured one is {backend}."
        )
    copy = source / manifest.database_file
    if not copy.is_file():
        raise BackupError(f"{copy} is missing from the backup.")
    existing = inspect(engine).get_table_names()
    engine.dispose()
    if existing and not force:
        raise BackupError(
            f"The database already holds {len(existing)} tables; restoring would replace all of them. "
            "Add --force to overwrite it."
        )
    if backend == "sqlite":
        _restore_sqlite(engine, copy, manifest)
    else:
        _restore_postgres(engine, copy, force=bool(existing))
    engine.dispose()
    with engine.connect() as connection:
        restored = table_checksums(connection)
    _compare(manifest.tables, restored, "the restored database")
    return manifest


def _restore_sqlite(engine: Engine, copy: Path, manifest: Manifest) -> None:
    _compare(manifest.tables, _sqlite_checksums(copy), "the backup")
    saved = _read_only(copy)
    try:
        with engine.connect() as connection:
            live = connection.connection.driver_connection
            assert isinstance(live, sqlite3.Connection)
            # Page by page into the live file, under SQLite's own locking: no half-replaced file.
            saved.backup(live)
    finally:
        saved.close()


def _restore_postgres(engine: Engine, copy: Path, *, force: bool) -> None:
    command, env = _postgres_command(engine, "pg_restore")
    if force:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    _run(
        [
            *command,
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(engine.url.database),
            str(copy),
        ],
        env,
    )


def _compare(
    expected: Mapping[str, Mapping[str, Any]], found: Mapping[str, Mapping[str, Any]], what: str
) -> None:
    differences = [
        name
        for name in sorted(set(expected) | set(found))
        if (expected.get(name) or {}).get("sha256") != (found.get(name) or {}).get("sha256")
        or (expected.get(name) or {}).get("rows") != (found.get(name) or {}).get("rows")
    ]
    if differences:
        raise BackupError(
            f"{what} does not match the manifest in {len(differences)} tables: {', '.join(differences[:8])}."
        )
