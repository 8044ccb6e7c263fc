"""Request ids and the access log: one line per request, findable by the id a user quotes.

Each request gets an id: the caller's ``X-Request-ID`` when it is well formed (a proxy's, so
its log and ours share ids), a new random one otherwise. It is answered in the response's
``X-Request-ID``, stored with every audit event of the request, carried by every log line
written while the request runs (:mod:`registry.logs`), and shown on the error page.

The access line names method, path, endpoint, status, duration, CPU time and the signed-in
account's id; never the query string, the headers or the body, where passwords, tokens and
form contents travel.
Health and readiness probes, polled every few seconds, are logged at DEBUG so they do not bury
the people's requests.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from flask import Flask, g, request
from flask.logging import default_handler

from registry import logs

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
PROBES = frozenset({"pages.health", "pages.ready"})
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

access_log = logging.getLogger("registry.access")


def begin() -> None:
    g.request_started = time.perf_counter()
    # CPU time of this thread alone: with sync workers, the request's own cost, which wall time
    # mixes with waiting for the database and for a core.
    g.request_cpu_started = time.thread_time()
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID.match(supplied) else uuid.uuid4().hex


def finish(response: Any) -> Any:
    request_id = g.get("request_id", "")
    response.headers["X-Request-ID"] = request_id
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
    cpu_started = g.get("request_cpu_started")
    cpu_ms = round((time.thread_time() - cpu_started) * 1000, 1) if cpu_started is not None else None
    user_id = _loaded_user_id()
    # Escaped so a path with a newline (%0A) cannot forge a second line in the text format.
    path = CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", request.path)
    access_log.log(
        logging.DEBUG if request.endpoint in PROBES else logging.INFO,
        "%s %s %s %s ms",
        request.method,
        path,
        response.status_code,
        duration_ms,
        extra={
            "method": request.method,
            "path": path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "cpu_ms": cpu_ms,
            "endpoint": request.endpoint,
            "user_id": user_id,
        },
    )
    return response


def _loaded_user_id() -> int | None:
    """The id of the account this request already loaded, if any.

    Asking Flask-Login now would query the database for pages that never needed to know who
    was there. The access line must never turn an answer into an error, so anything odd
    stored as the request's user gives no id rather than an exception.
    """
    user = g.get("_login_user")
    try:
        return getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    except Exception:  # noqa: BLE001 - e.g. a proxy stored as the user, resolving to itself
        return None


def init_app(app: Flask) -> None:
    """Register first, so the id exists before any other hook runs and the line is written last.

    Outside tests the root logger gets one handler in the configured format (``LOG_FORMAT``),
    which also carries the lines of gunicorn's workers, the job consumer and libraries.
    """
    logs.install_request_ids()
    if not app.config.get("TESTING"):
        logs.configure(logging.getLogger(), fmt=app.config["LOG_FORMAT"], level=app.config["LOG_LEVEL"])
        # Flask gives app.logger a handler of its own when none is configured: lines twice.
        app.logger.removeHandler(default_handler)
    app.before_request(begin)
    app.after_request(finish)
