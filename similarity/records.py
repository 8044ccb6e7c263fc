"""Input records: checked once, so every signal can trust what it reads.

A record is a plain dict (``id``, ``name``, ``description`` and optional ``purpose``,
``capabilities``, ``data_domains``, ``depends_on``, ``agency``, ``user_agencies``, ``level``,
``instance_of``, ``is_shared_platform``). Anything missing is treated as unknown, never as
"nothing in common".
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_TEXT", "Record", "RecordError", "read_records"]

MAX_TEXT = 20_000
"""Characters of each text field used for matching: enough for any real description, and a
1 MB paste cannot make fitting or a query hang."""


class RecordError(ValueError):
    """A record cannot be used; the message names the record and the field."""


@dataclass(frozen=True, slots=True)
class Record:
    id: Hashable
    name: str
    description: str
    purpose: str
    capabilities: frozenset[Hashable] | None
    data_domains: frozenset[Hashable] | None
    depends_on: frozenset[Hashable] | None
    user_agencies: frozenset[Hashable] | None
    agency: Hashable | None
    level: str | None
    instance_of: Hashable | None
    is_shared_platform: bool

    @property
    def full_text(self) -> str:
        return " ".join(part for part in (self.name, self.description, self.purpose) if part)


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RecordError(f"{where}: '{key}' must be text, not {type(value).__name__}")
    return value[:MAX_TEXT]


def _set(raw: Mapping[str, Any], key: str, where: str) -> frozenset[Hashable] | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, str | int):
        value = [value]
    if not isinstance(value, Iterable) or isinstance(value, Mapping):
        raise RecordError(f"{where}: '{key}' must be a list")
    items = list(value)
    if not all(isinstance(item, Hashable) and not isinstance(item, list | dict) for item in items):
        raise RecordError(f"{where}: '{key}' must be a list of codes or ids")
    return frozenset(items)


def _scalar(raw: Mapping[str, Any], key: str, where: str) -> Hashable | None:
    value = raw.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, Hashable) or isinstance(value, list | dict | set):
        raise RecordError(f"{where}: '{key}' must be a single code or id")
    return value


def to_record(raw: Mapping[str, Any], position: int | None = None) -> Record:
    """Check one raw record and freeze it."""
    where = f"record {position}" if position is not None else "record"
    if not isinstance(raw, Mapping):
        raise RecordError(f"{where}: expected a mapping of fields, got {type(raw).__name__}")
    record_id = raw.get("id")
    if record_id is None or record_id == "" or isinstance(record_id, bool):
        raise RecordError(f"{where}: 'id' is required")
    if not isinstance(record_id, Hashable) or isinstance(record_id, list | dict):
        raise RecordError(f"{where}: 'id' must be text or a number")
    where = f"record {record_id!r}"
    level = _scalar(raw, "level", where)
    return Record(
        id=record_id,
        name=_text(raw, "name", where),
        description=_text(raw, "description", where),
        purpose=_text(raw, "purpose", where),
        capabilities=_set(raw, "capabilities", where),
        data_domains=_set(raw, "data_domains", where),
        depends_on=_set(raw, "depends_on", where),
        user_agencies=_set(raw, "user_agencies", where),
        agency=_scalar(raw, "agency", where),
        level=str(level) if level is not None else None,
        instance_of=_scalar(raw, "instance_of", where),
        is_shared_platform=bool(raw.get("is_shared_platform", False)),
    )


def read_records(raws: Iterable[Mapping[str, Any]]) -> list[Record]:
    """Check every record; duplicate ids are refused because pairs are reported by id."""
    records: list[Record] = []
    seen: set[Hashable] = set()
    for position, raw in enumerate(raws, start=1):
        record = to_record(raw, position)
        if record.id in seen:
            raise RecordError(f"record {position}: id {record.id!r} is used by an earlier record")
        seen.add(record.id)
        records.append(record)
    return records
