"""Application settings, read from the environment so one build runs anywhere.

Only two settings matter to an operator: ``DATABASE_URL`` (defaults to a SQLite file in the
instance folder, so a newcomer needs nothing installed) and ``SECRET_KEY`` (refused when left
at a placeholder outside development, because it signs sessions and CSRF tokens).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev"})

PAGE_SIZES = (25, 50, 100)
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(RuntimeError):
    """Raised when the environment describes a configuration that must not start."""


def default_database_url(instance_path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(instance_path) / 'registry.sqlite3'}"


def default_queue_url(instance_path: str | os.PathLike[str]) -> str:
    return f"sqlite:///{Path(instance_path) / 'queue.sqlite3'}"


def queue_is_immediate(config: Mapping[str, Any]) -> bool:
    """Whether jobs run inside the call that queues them (tests, unless they ask otherwise)."""
    return bool(config.get("QUEUE_IMMEDIATE", config.get("TESTING", False)))


def load_settings(
    instance_path: str | os.PathLike[str], environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """Build the Flask config mapping from environment variables.

    Production (``REGISTRY_ENV=production``) refuses a missing or placeholder ``SECRET_KEY``;
    development generates a random one per process, which is safe but logs users out on restart.
    """
    env = os.environ if environ is None else environ
    production = env.get("REGISTRY_ENV", "development") == "production"
    secret = env.get("SECRET_KEY", "")
    generated = secret in PLACEHOLDER_SECRETS
    if generated:
        if production:
            raise ConfigError("SECRET_KEY must be set to a long random value in production.")
        secret = secrets.token_hex(32)
    database_url = env.get("DATABASE_URL") or default_database_url(instance_path)
    zone = env.get("REGISTRY_TIMEZONE") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"REGISTRY_TIMEZONE={zone!r} is not a time zone name such as {DEFAULT_TIMEZONE}."
        ) from exc
    queue_url = env.get("REGISTRY_QUEUE_URL") or default_queue_url(instance_path)
    log_format = env.get("REGISTRY_LOG_FORMAT") or ("json" if production else "text")
    if log_format not in LOG_FORMATS:
        raise ConfigError(f"REGISTRY_LOG_FORMAT={log_format!r} must be one of: {', '.join(LOG_FORMATS)}.")
    log_level = (env.get("REGISTRY_LOG_LEVEL") or "INFO").upper()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"REGISTRY_LOG_LEVEL={log_level!r} must be one of: {', '.join(LOG_LEVELS)}.")
    embedded_default = "1" if queue_url.startswith("sqlite") else "0"
    optional: dict[str, Any] = {}
    if "REGISTRY_EMBED_IN_BACKGROUND" in env:
        # Unset, large saves and starting workers queue the meaning analysis unless testing
        # (services.embeddings.wanted); 0 leaves it to `flask embed` and the jobs page.
        optional["EMBED_IN_BACKGROUND"] = env["REGISTRY_EMBED_IN_BACKGROUND"] not in {"0", "false", "no"}
    return optional | {
        "SECRET_KEY": secret,
        # True when no key was given and one was made up for this process (development only):
        # sessions then end at each restart and differ between workers; `flask doctor` says so.
        "SECRET_KEY_GENERATED": generated,
        "DATABASE_URL": normalise_database_url(database_url),
        "REGISTRY_ENV": "production" if production else "development",
        # An empty SQLite database gets its schema and the demo portfolio on first start, so
        # the README's single run command is enough; never on PostgreSQL, where data is real.
        "AUTO_SETUP": env.get("REGISTRY_AUTO_SETUP", "1") not in {"0", "false", "no"},
        "BABEL_DEFAULT_LOCALE": "vi",
        # Pages show every date and time in this zone, and name it; exports stay in UTC.
        "BABEL_DEFAULT_TIMEZONE": zone,
        "LANGUAGES": ("vi", "en"),
        "PAGE_SIZE": 25,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # The __Host- prefix makes browsers refuse the cookie unless it is Secure, for this
        # host only and for every path: no sibling subdomain can plant or overwrite it.
        "SESSION_COOKIE_NAME": "__Host-registry" if production else "session",
        # Sessions end after 2 hours without activity and 12 hours after signing in.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=2),
        "SESSION_ABSOLUTE_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        # Number of reverse proxies in front of the app (0: none); see factory.create_app.
        "PROXY_HOPS": int(env.get("REGISTRY_PROXY_HOPS", "0") or 0),
        "PASSWORD_HASH_PROFILE": "default",
        # Background jobs (registry.jobs): Huey on SQLite beside the database by default, run
        # by a consumer thread inside the web app; on Redis, by `flask worker` processes.
        "QUEUE_URL": queue_url,
        # Several registries may share one Redis, each under its own name.
        "QUEUE_NAME": env.get("REGISTRY_QUEUE_NAME") or "registry",
        "EMBEDDED_WORKER": env.get("REGISTRY_EMBEDDED_WORKER", embedded_default) not in {"0", "false", "no"},
        # Log lines (registry.logs): one JSON object a line for a log collector in production,
        # readable text in development; each carries its request id.
        "LOG_FORMAT": log_format,
        "LOG_LEVEL": log_level,
        # /readyz fails while this process's overlap index is not built yet: only for
        # deployments that warm the index as a worker starts (see docs/deploy.md).
        "READY_REQUIRES_INDEX": env.get("REGISTRY_READY_REQUIRES_INDEX", "0") in {"1", "true", "yes"},
        # Build the overlap index when the app is created (factory.warm_index), not at the
        # first overlap check: with gunicorn --preload, once for all workers.
        "WARM_INDEX": env.get("REGISTRY_WARM_INDEX", "0") in {"1", "true", "yes"},
        # Inventory exports of more systems than this (CSV, XLSX, JSON) are written by a job
        # into EXPORT_DIR and downloaded from its page; smaller ones stream in the request.
        "EXPORT_JOB_THRESHOLD": int(env.get("REGISTRY_EXPORT_JOB_THRESHOLD", "5000") or 5000),
        # Import files of more rows than this are checked (planned for their preview) by a job
        # that keeps the preview, not by the page: a 100,000-row plan outlasts any request.
        "IMPORT_CHECK_JOB_THRESHOLD": int(env.get("REGISTRY_IMPORT_CHECK_JOB_THRESHOLD", "5000") or 5000),
        # Empty: instance/exports. Several machines need one folder they all see.
        "EXPORT_DIR": env.get("REGISTRY_EXPORT_DIR") or None,
        # The fitted overlap index, saved once and mapped by every worker (services.index_snapshot);
        # empty means ``overlap-index`` in the instance folder.
        "INDEX_DIR": env.get("REGISTRY_INDEX_DIR", ""),
        # A worker that finds no snapshot asks the queue for one.
        "INDEX_AUTO_BUILD": env.get("REGISTRY_INDEX_AUTO_BUILD", "1") not in {"0", "false", "no"},
    }


def normalise_database_url(url: str) -> str:
    """Route plain ``postgresql://`` URLs to psycopg 3, the only PostgreSQL driver installed."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
