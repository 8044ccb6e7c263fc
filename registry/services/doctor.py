"""What an operator should fix before (or while) running the registry in production.

``flask --app app doctor`` prints these findings. The database, schema, index and queue
checks are :mod:`registry.services.readiness`'s, so the doctor and ``/readyz`` never disagree;
the rest look at the configuration and the accounts, which a probe has no reason to read every
few seconds. Each finding is OK, WARN (works, but not as a production server should) or FAIL
(does not work, or is unsafe), with one line saying what to do.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from registry.models import User
from registry.services import readiness
from registry.services.overlaps import PortfolioIndex, portfolio_records

log = logging.getLogger(__name__)

MIN_SECRET_LENGTH = 32
"""Characters of a SECRET_KEY below which it is weak: ``secrets.token_hex(16)`` gives 32."""
MIN_SECRET_SYMBOLS = 10
"""Distinct characters below which a long key is still guessable ("aaaa…", "12121212…")."""
WORKER_TIMEOUT = 30.0
"""gunicorn's default worker timeout: a first overlap check slower than this kills the worker."""


class Level(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class Finding:
    name: str
    level: Level
    summary: str
    fix: str = ""


def diagnose(
    config: Mapping[str, Any],
    session: Session,
    *,
    instance_path: str,
    index: PortfolioIndex,
    queue: readiness.QueueStorage,
    fit_index: bool = False,
) -> list[Finding]:
    """Every finding, configuration first, then what the readiness probe checks, then secrets."""
    production = config.get("REGISTRY_ENV") == "production"
    findings = [
        environment(production),
        secret_key(config, production),
        database_url(str(config["DATABASE_URL"]), production),
        Finding("timezone", Level.OK, f"pages show times in {config['BABEL_DEFAULT_TIMEZONE']}"),
        instance_folder(instance_path),
        queue_url(str(config["QUEUE_URL"]), production),
        proxy(int(config.get("PROXY_HOPS") or 0), production),
        log_format(str(config.get("LOG_FORMAT", "text")), production),
    ]
    ready = readiness.check(
        session, index=index, queue=queue, index_required=bool(config.get("READY_REQUIRES_INDEX"))
    )
    for check in ready.checks:
        if check.name == "index" and check.ok:
            findings.append(overlap_index(session, fit=fit_index))
        else:
            findings.append(from_check(check))
    if ready.checks[1].ok:  # the schema is there, so the accounts table is
        findings.append(demo_accounts(session, production))
    return findings


def environment(production: bool) -> Finding:
    if production:
        return Finding("environment", Level.OK, "REGISTRY_ENV=production")
    return Finding(
        "environment",
        Level.WARN,
        "development: demo accounts may sign in and cookies are not marked Secure",
        "On a server people use, set REGISTRY_ENV=production.",
    )


def secret_key(config: Mapping[str, Any], production: bool) -> Finding:
    fix = "Set SECRET_KEY to a long random value: python -c 'import secrets; print(secrets.token_hex(32))'."
    if config.get("SECRET_KEY_GENERATED"):
        return Finding(
            "secret_key",
            Level.WARN,
            "not set: a random key per process, so sessions end at each restart and differ between workers",
            fix,
        )
    key = str(config.get("SECRET_KEY", ""))
    if len(key) < MIN_SECRET_LENGTH or len(set(key)) < MIN_SECRET_SYMBOLS:
        return Finding(
            "secret_key",
            Level.FAIL if production else Level.WARN,
            f"weak: {len(key)} characters, {len(set(key))} distinct; sessions and CSRF tokens can be forged",
            fix,
        )
    return Finding("secret_key", Level.OK, f"set ({len(key)} characters)")


def database_url(url: str, production: bool) -> Finding:
    shown = make_url(url).render_as_string(hide_password=True)
    if url.startswith("sqlite") and production:
        return Finding(
            "database_url",
            Level.WARN,
            f"{shown}: SQLite serves one machine and one writer at a time",
            "Use PostgreSQL for production: DATABASE_URL=postgresql://USER@HOST:5432/registry.",
        )
    return Finding("database_url", Level.OK, shown)


def instance_folder(path: str) -> Finding:
    """The folder the app writes files to (the SQLite database and queue, caches)."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Finding(
            "instance_folder",
            Level.FAIL,
            f"{folder} is not writable ({exc.strerror or type(exc).__name__})",
            f"Give the account running the app write access to {folder}.",
        )
    return Finding("instance_folder", Level.OK, f"{folder} is writable")


def queue_url(url: str, production: bool) -> Finding:
    if url.startswith("sqlite") and production:
        return Finding(
            "queue_url",
            Level.WARN,
            "SQLite queue: jobs run on the machine that holds the file, inside the web processes "
            "unless REGISTRY_EMBEDDED_WORKER=0",
            "For several machines, set REGISTRY_QUEUE_URL=redis://HOST:6379/0 and run "
            "flask --app app worker where the CPU is.",
        )
    return Finding("queue_url", Level.OK, make_url(url).render_as_string(hide_password=True))


def proxy(hops: int, production: bool) -> Finding:
    if hops == 0 and production:
        return Finding(
            "proxy",
            Level.WARN,
            "REGISTRY_PROXY_HOPS=0: X-Forwarded-* headers are ignored",
            "Behind a reverse proxy, set REGISTRY_PROXY_HOPS to the number of proxies (usually 1).",
        )
    return Finding("proxy", Level.OK, f"trusting {hops} proxy hop(s)" if hops else "no reverse proxy")


def log_format(fmt: str, production: bool) -> Finding:
    if fmt != "json" and production:
        return Finding(
            "log_format",
            Level.WARN,
            f"{fmt} logs: a log collector cannot search them by field",
            "Set REGISTRY_LOG_FORMAT=json (the production default).",
        )
    return Finding("log_format", Level.OK, f"{fmt} logs with request ids")


def from_check(check: readiness.Check) -> Finding:
    """A readiness check as a finding: failed is FAIL, with the check's own fix."""
    if check.status == readiness.NOT_CHECKED:
        return Finding(check.name, Level.WARN, f"not checked: the {check.detail['because']} check failed")
    words = ", ".join(f"{key}={value}" for key, value in check.detail.items() if value is not None)
    summary = f"{check.status}" + (f" ({words})" if words else "")
    if check.ok:
        return Finding(check.name, Level.OK, summary)
    return Finding(check.name, Level.FAIL, summary, check.fix)


def overlap_index(session: Session, *, fit: bool) -> Finding:
    """Whether the overlap index can be built from this database, and, when asked, how fast.

    A web worker builds it at its first overlap check: when that takes longer than the worker
    timeout, the worker is killed mid-fit and every first check fails, so it is worth timing.
    """
    from registry.services.overlaps import portfolio_finder
    from registry.services.vectors import VectorTable

    started = time.perf_counter()
    records = portfolio_records(session)
    read = time.perf_counter() - started
    if not fit:
        return Finding(
            "index",
            Level.OK,
            f"{len(records)} live systems read in {read:.1f} s; each web worker builds the index "
            "at its first overlap check",
            "" if len(records) < 10_000 else "Run flask --app app doctor --fit-index to time that build.",
        )
    try:
        portfolio_finder(VectorTable(session.get_bind(), session)).fit(records)  # type: ignore[arg-type]  # a session is bound to an engine here
    except Exception as exc:  # noqa: BLE001 - any failure to build is the finding
        log.exception("The overlap index cannot be built")
        summary = f"cannot be built: {type(exc).__name__}"
        return Finding("index", Level.FAIL, summary, "See the log above for the traceback.")
    seconds = time.perf_counter() - started
    if seconds > WORKER_TIMEOUT:
        return Finding(
            "index",
            Level.WARN,
            f"built from {len(records)} systems in {seconds:.1f} s, longer than gunicorn's default "
            f"{WORKER_TIMEOUT:.0f} s worker timeout",
            f"Start gunicorn with --timeout {int(seconds * 2) + 30} (see docs/deploy.md).",
        )
    return Finding("index", Level.OK, f"built from {len(records)} systems in {seconds:.1f} s")


def demo_accounts(session: Session, production: bool) -> Finding:
    """Demo accounts share a published password; only production keeps them from signing in."""
    count = int(
        session.scalar(select(func.count()).select_from(User).where(col(User.is_demo), col(User.is_active)))
        or 0
    )
    if not count:
        return Finding("demo_accounts", Level.OK, "none active")
    if production:
        return Finding(
            "demo_accounts", Level.OK, f"{count} active, but they cannot sign in when REGISTRY_ENV=production"
        )
    return Finding(
        "demo_accounts",
        Level.WARN,
        f"{count} active demo accounts whose password is published in the README can sign in",
        "Set REGISTRY_ENV=production (they are then refused), or use this database for trials only.",
    )


def worst(findings: list[Finding]) -> Level:
    levels = {finding.level for finding in findings}
    return Level.FAIL if Level.FAIL in levels else Level.WARN if Level.WARN in levels else Level.OK
