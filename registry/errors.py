"""Errors that services raise for people to read, not stack traces."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import lazy_gettext as _l


class ServiceError(Exception):
    """Base class of errors caused by the input or the state, not by a bug."""


class ValidationError(ServiceError):
    """One or more fields are wrong; ``errors`` maps each field name to its messages.

    Messages are (lazy) translatable strings so the same error reads in Vietnamese on a form
    and in English for an English-speaking user or a log.
    """

    def __init__(self, errors: Mapping[str, list[object]]):
        self.errors = {field: list(messages) for field, messages in errors.items() if messages}
        super().__init__("; ".join(f"{f}: {', '.join(map(str, m))}" for f, m in self.errors.items()))


class StaleEditError(ServiceError):
    """The record changed since the editor loaded it; saving would silently discard that change."""

    def __init__(self, current_version: int, submitted_version: int | None):
        self.current_version = current_version
        self.submitted_version = submitted_version
        super().__init__(
            f"record is at version {current_version}, edit was based on version {submitted_version}"
        )


class NotFoundError(ServiceError):
    """A referenced record does not exist."""


def too_long(limit: int, length: int) -> object:
    """The message for text over its limit, saying by how much so people know what to cut."""
    return _l("Must be at most %(limit)s characters (now %(length)s).", limit=limit, length=length)


class PermissionDeniedError(ServiceError):
    """The actor's role, agency or token scope does not allow this action."""

    def __init__(self, message: object):
        self.message = message
        super().__init__(str(message))
