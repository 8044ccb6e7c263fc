"""Log lines an operator can search: JSON (one object a line) or text, each with its request id.

Every record gets a ``request_id`` attribute, the id of the request being served when it was
logged (``None`` outside a request: commands, jobs, start-up), so all the lines of one request,
whichever module wrote them, can be found with the id a user quotes from an error page. Only the
standard :mod:`logging` module is used, so libraries' own lines come out in the same format.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import g, has_app_context

from registry.config import LOG_FORMATS

FORMATS = LOG_FORMATS
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
HANDLER_MARK = "_registry_handler"
"""Set on the handler this module installs, so configuring again replaces it and only it."""

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
"""Attributes every record has; the others came through ``extra=`` and go into the JSON object."""

_factory_installed = False


def current_request_id() -> str | None:
    return g.get("request_id") if has_app_context() else None


def install_request_ids() -> None:
    """Make every new log record carry the current request id (once per process).

    A record factory rather than a handler filter: records then carry the id whichever handler
    receives them (gunicorn's, pytest's, ours), and a library logging through its own logger
    needs nothing from us.
    """
    global _factory_installed
    if _factory_installed:
        return
    previous: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = current_request_id()
        return record

    logging.setLogRecordFactory(factory)
    _factory_installed = True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, message, request id, and the extras.

    Extras are the fields a caller passed with ``extra=`` (the access line's method, path,
    status, duration); a value JSON cannot hold is written as its ``str``.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with the request id in brackets (``-`` outside a request)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        try:
            return super().format(record)
        finally:
            if record.request_id == "-":
                record.request_id = None


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a line is written, not when configured.

    A test runner, or a server that redirects its streams after start-up, then still receives
    the lines, and none goes to a stream that was closed in between.
    """

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        return None


def formatter_for(name: str) -> logging.Formatter:
    if name not in FORMATS:
        raise ValueError(f"log format must be one of {', '.join(FORMATS)}, not {name!r}")
    return JsonFormatter() if name == "json" else TextFormatter()


def configure(logger: logging.Logger, *, fmt: str, level: str) -> logging.Handler:
    """Send ``logger``'s records (the root logger's: everything) to stderr in ``fmt``.

    Replaces the handler an earlier call installed, and only that one: handlers others put
    there (a test's capture, a server's own) stay.
    """
    install_request_ids()
    for handler in list(logger.handlers):
        if getattr(handler, HANDLER_MARK, False):
            logger.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(formatter_for(fmt))
    setattr(handler, HANDLER_MARK, True)
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
