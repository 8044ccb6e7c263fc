"""What a reader makes of an uploaded file, before anything is checked against the registry.

Every format (CSV, XLSX, JSON, publiccode.yml, Backstage, RIHA) is read into a :class:`Source`;
the import service then validates, previews and commits it the same way whatever the format.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_gettext as translated_later
from flask_babel.speaklater import LazyString


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


TAG = "__kept__"
"""Marks a value JSON cannot hold as such (a spreadsheet's date, a YAML timestamp)."""


def keep_source(source: Source) -> dict[str, Any]:
    """``source`` as JSON, to be kept next to the upload and read back by :func:`kept_source`.

    The upload is parsed once, when it arrives; its preview and its commit plan from what is
    kept, so a large workbook is not unpacked again on every visit. The round trip is exact:
    dates stay dates, and a problem's message stays translatable (its message id and values
    are kept, not the sentence in the uploader's language).
    """
    return {
        "format": source.format,
        "records": [[record.location, _keep_value(record.values)] for record in source.records],
        "agencies": [asdict(agency) for agency in source.agencies],
        "problems": [[where, column, keep_message(message)] for where, column, message in source.problems],
    }


def kept_source(kept: dict[str, Any]) -> Source:
    """The :class:`Source` that :func:`keep_source` kept."""
    return Source(
        format=kept["format"],
        records=[SourceRecord(location, _kept_value(values)) for location, values in kept["records"]],
        agencies=[SourceAgency(**agency) for agency in kept["agencies"]],
        problems=[(where, column, kept_message(message)) for where, column, message in kept["problems"]],
    )


def keep_message(message: object) -> Any:
    """A translatable message as its message id and values; any other as its text."""
    if (
        isinstance(message, LazyString)
        and message._func is gettext
        and message._args
        and isinstance(message._args[0], str)
    ):
        return {"msgid": message._args[0], "values": _keep_value(dict(message._kwargs))}
    return str(message)


def kept_message(kept: Any) -> object:
    if isinstance(kept, dict):
        return translated_later(kept["msgid"], **_kept_value(kept["values"]))
    return str(kept)


def _keep_value(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, dict):
        kept = {str(key): _keep_value(item) for key, item in value.items()}
        return {TAG: "dict", "value": kept} if TAG in kept else kept
    if isinstance(value, list | tuple):
        return [_keep_value(item) for item in value]
    if isinstance(value, datetime):  # before date: a datetime is a date
        return {TAG: "datetime", "value": value.isoformat()}
    if isinstance(value, date):
        return {TAG: "date", "value": value.isoformat()}
    if isinstance(value, time):
        return {TAG: "time", "value": value.isoformat()}
    if isinstance(value, timedelta):
        return {TAG: "timedelta", "value": value.total_seconds()}
    if isinstance(value, bytes):
        return {TAG: "bytes", "value": base64.b64encode(value).decode()}
    return {TAG: "text", "value": str(value)}  # sets and the like: no reader takes them anyway


def _kept_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_kept_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(TAG)
    if tag is None:
        return {key: _kept_value(item) for key, item in value.items()}
    raw = value["value"]
    match tag:
        case "dict":
            return {key: _kept_value(item) for key, item in raw.items()}
        case "datetime":
            return datetime.fromisoformat(raw)
        case "date":
            return date.fromisoformat(raw)
        case "time":
            return time.fromisoformat(raw)
        case "timedelta":
            return timedelta(seconds=raw)
        case "bytes":
            return base64.b64decode(raw)
    return str(raw)


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
