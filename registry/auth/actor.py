"""The actor behind a write: a signed-in person, a token, or the server's own command line.

Services take an :class:`Actor` rather than a ``User`` so that the same code path records the
audit trail and checks permissions for a web request, an API call with a read-only token, the
``flask`` command line and the seed loader alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from registry.choices import TokenScope

if TYPE_CHECKING:
    from registry.models import User


@dataclass(frozen=True)
class Actor:
    """Who is acting, with the role and agency their permissions follow from.

    ``role`` is ``None`` only for an operator working on the server itself (``flask --app app
    …``, the seed loader): someone with shell access to the server is trusted with every write,
    and still leaves an audit event under ``label``.
    """

    label: str
    role: str | None
    user_id: int | None = None
    agency_id: int | None = None
    scope: str = TokenScope.WRITE
    request_id: str | None = None

    @classmethod
    def operator(cls, label: str) -> Actor:
        return cls(label=label, role=None)

    @classmethod
    def of(cls, user: User, *, scope: str = TokenScope.WRITE, request_id: str | None = None) -> Actor:
        return cls(
            label=user.username,
            role=user.role,
            user_id=user.id,
            agency_id=user.agency_id,
            scope=scope,
            request_id=request_id,
        )

    @property
    def is_operator(self) -> bool:
        return self.role is None


SERVER_ACTORS: dict[str, object] = {
    "cli": _l("Command line (server)"),
    "embedder": _l("Registry (meaning analysis)"),
    "import": _l("Command line import (server)"),
    "import-usage": _l("Command line usage import (server)"),
    "index": _l("Registry (overlap index)"),
    "reporting remind": _l("Registry (reporting reminders)"),
    "scan": _l("Command line scan (server)"),
    "seed": _l("Seed loader (server)"),
    "worker": _l("Registry (job worker)"),
}
"""What the server's own actors are called on pages: their labels are codes."""


def actor_name(label: str, user_id: int | None) -> object:
    """How a page names who acted: a person by username, the server in the reader's language.

    Only a label without an account is the server's: an account named "index" stays itself.
    """
    return SERVER_ACTORS.get(label, label) if user_id is None else label
