"""What a reader makes of an uploaded file, before anything is checked against the registry.

Every format (CSV, XLSX, JSON, publiccode.yml, Backstage, RIHA) is read into a :class:`Source`;
the import service then validates, previews and commits it the same way whatever the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class SourceRecord:
    """One system of the file.

    ``location`` is how a person finds it in their own file ("line 12", "document 3",
    "content[41]"); ``values`` uses the interchange record's columns
    (:data:`registry.interchange.record.WRITABLE_COLUMNS` plus ``code`` and ``external_id``),
    as text or as JSON values; :func:`registry.interchange.record.typed` reads either.
    """

    location: str
    values: dict[str, Any]


@dataclass(frozen=True)
class SourceAgency:
    """An agency the file's systems refer to, which the registry may not know yet.

    Formats from elsewhere (RIHA's owners, Backstage groups) name bodies that are not in the
    registry's agency tree; an administrator's import may create them.
    """

    location: str
    code: str
    name: str
    level: str = "central"
    block: str = "state"
    parent_code: str | None = None


@dataclass
class Source:
    """Everything read from one file, and the problems that stopped a part of it being read."""

    format: str
    records: list[SourceRecord] = field(default_factory=list)
    agencies: list[SourceAgency] = field(default_factory=list)
    problems: list[tuple[str, str, object]] = field(default_factory=list)
    """``(location, column, message)``: a record that could not be read at all, a bad encoding."""


class UnreadableFileError(Exception):
    """The file as a whole cannot be read: wrong format, bad encoding, not YAML, too large.

    ``message`` is translatable and names what to do about it.
    """

    def __init__(self, message: object):
        self.message = message
        super().__init__(str(message))

    @classmethod
    def too_deep(cls, levels: int) -> UnreadableFileError:
        """Nesting past any real record: refused before it can exhaust the parser's stack."""
        return cls(
            _l("The file nests more than %(levels)s levels deep; no registry record does.", levels=levels)
        )
