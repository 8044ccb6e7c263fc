"""Adapter for RIHA, Estonia's catalogue of state information systems (its public API's JSON).

RIHA is the closest real registry to ours, written by the agencies themselves. Many bodies run
the same product ("standard solution"): a system marked as using a standard solution is mapped
to ``instance_of`` its product name, so those deployments are reported as reuse, while
different products doing the same job (several document-management systems) remain overlaps.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["load_riha", "riha_records"]

EMPTY_PURPOSES = frozenset({"", "-", "--", ".", "n/a", "puudub"})
PRODUCT_MIN_DEPLOYMENTS = 3
"""A declared standard-solution name used by this many bodies is taken as a product's name."""


def _text(value: Any) -> str:
    text = str(value or "").strip()
    return "" if text.lower() in EMPTY_PURPOSES else text


def riha_records(systems: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Engine records from RIHA entries (``content`` items of ``/api/v1/systems``).

    RIHA's public listing says that a system uses a standard solution but not which one; the
    product is recognised by name. A system bearing exactly the name of a declared standard
    solution is taken as another deployment of it even where its owner left the flag unset.
    """
    systems = list(systems)
    flagged = Counter(
        _text((entry.get("details") or {}).get("name")).casefold()
        for entry in systems
        if entry.get("hasUsedSystemTypeRelations")
    )
    flagged.pop("", None)
    products = [name for name, count in flagged.most_common() if count >= PRODUCT_MIN_DEPLOYMENTS]
    records = []
    for entry in systems:
        details = entry.get("details") or {}
        owner = details.get("owner") or {}
        stored = details.get("stored_data") or []
        name = _text(details.get("name"))
        records.append(
            {
                "id": details.get("short_name") or details.get("uuid") or entry.get("id"),
                "name": name,
                "description": _text(details.get("purpose")),
                "purpose": "; ".join(_text(item) for item in stored if _text(item)),
                "agency": owner.get("code"),
                "data_domains": [t.casefold() for t in details.get("topics") or [] if t] or None,
                "instance_of": _standard_solution(name.casefold(), flagged, products),
            }
        )
    return records


def _standard_solution(name: str, flagged: Counter[str], products: list[str]) -> str | None:
    """The product a system is a deployment of, recognised by name.

    A body often names its deployment after itself ("Tartu Maavalitsuse Dokumendihaldussüsteem
    Delta"): when every word of a product's common name ("dokumendihaldussüsteem delta") is in
    the system's name, it is that product. Otherwise a declared standard-solution name is its
    own product.
    """
    words = set(name.split())
    for product in products:
        if set(product.split()) <= words:
            return f"standard:{product}"
    return f"standard:{name}" if name in flagged else None


def load_riha(path: str | Path) -> list[dict[str, Any]]:
    document = json.loads(Path(path).read_text(encoding="utf-8"))
    entries = document.get("content") if isinstance(document, Mapping) else document
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected RIHA's JSON with a 'content' list of systems")
    return riha_records(entries)
