"""How an audit event is hashed: the canonical form and the chain's hash, with no database.

The write side (:mod:`registry.services.audit`) and the readers that verify or export the trail
(:mod:`registry.exports.trail`, outside verifiers following ``docs/audit-trail.md``) must agree
on these bytes exactly, so they are defined once, below both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event."""

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_label",
    "action",
    "object_type",
    "object_id",
    "object_label",
    "system_id",
    "before",
    "after",
    "request_id",
)


def json_native(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The value exactly as it will read back from a JSON column (dates become ISO strings)."""
    if value is None:
        return None
    return json.loads(json.dumps(value, default=json_default, ensure_ascii=False))


def json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def timestamp(moment: datetime) -> str:
    """UTC with microseconds; SQLite returns naive datetimes, which are UTC by construction."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(values: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed: the hashed fields as sorted, compact JSON."""
    payload = {name: values[name] for name in HASHED_FIELDS}
    payload["occurred_at"] = timestamp(payload["occurred_at"])
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def chain_hash(prev_hash: str, values: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + b"\n" + canonical(values)).hexdigest()
