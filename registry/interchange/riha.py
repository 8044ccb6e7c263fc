"""RIHA, Estonia's catalogue of state information systems: its public API's JSON, read as a Source.

RIHA is the closest real registry to ours. Its entries map as follows (the full table is in
``docs/interchange.md``):

- the owner body (registry code and name) becomes an agency ``EE-<code>``, central, state
  block, created by the import if the registry does not know it;
- the purpose becomes the description (an entry without one gets its name, so that it still
  imports and the justification rules flag the gap); topics and stored data become the purpose;
  legislation names the legal basis;
- IN_USE (and a missing status) is ``in_operation``, FINISHED ``retired``, ESTABLISHING a
  ``draft`` (being built; a proposal status would demand governance fields RIHA does not have);
- every system is central (RIHA is a national catalogue) and gets ``external_id``
  ``riha:<uuid>``, so a second import of the same file updates instead of duplicating;
- standard solutions: RIHA says that a system uses a standard solution but not which, and
  :mod:`similarity.riha` recognises the product by name. Each product becomes one shared
  platform record, listed before the systems (``external_id`` ``riha:standard:<product>``,
  owned by the agency ``EE-RIHA``, which stands for "product owner unknown"), and each of its
  deployments names it in ``instance_of`` by that external id.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from registry import jsonlimits
from registry.interchange.record import LIST_SEPARATOR
from registry.interchange.source import Source, SourceAgency, SourceRecord, UnreadableFileError
from registry.models.system import TEXT_LIMITS
from similarity.riha import PRODUCT_MIN_DEPLOYMENTS, _standard_solution
from similarity.riha import _text as clean

__all__ = ["read_riha"]

MAX_BYTES = 100 * 1024 * 1024
AGENCY_PREFIX = "EE-"
PRODUCT_OWNER = SourceAgency(
    location="standard solutions",
    code="EE-RIHA",
    name="RIHA standard solutions (product owner not recorded)",
)
STATUS = {"IN_USE": "in_operation", "FINISHED": "retired", "ESTABLISHING": "draft", None: "in_operation"}


def _limited(text: str, column: str) -> str:
    limit = TEXT_LIMITS[column]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def read_riha(data: bytes, *, max_bytes: int = MAX_BYTES) -> Source:
    """Systems, owner bodies and standard-solution platforms from RIHA's ``/api/v1/systems`` JSON.

    The top level is ``{"content": [...], "totalElements": …}`` (a bare list of entries is
    accepted too); each entry's ``details`` holds the system.
    """
    if len(data) > max_bytes:
        raise UnreadableFileError(
            _l(
                "The file is too large (%(size)s MB; at most %(limit)s MB). Split it into several files.",
                size=f"{len(data) / 1e6:.0f}",
                limit=f"{max_bytes / 1e6:.0f}",
            )
        )
    try:
        document = jsonlimits.loads(data.decode("utf-8-sig"))
    except jsonlimits.TooDeepError as exc:
        raise UnreadableFileError.too_deep(exc.max_depth) from None
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(_l("The file is not UTF-8 text.")) from exc
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(_l("The file is not valid JSON (line %(line)s).", line=exc.lineno)) from exc
    entries = document.get("content") if isinstance(document, Mapping) else document
    if not isinstance(entries, list):
        raise UnreadableFileError(
            _l("This is not RIHA's JSON: a list of systems under “content” is expected.")
        )

    source = Source(format="riha")
    flagged = Counter(
        clean(_details(entry).get("name")).casefold()
        for entry in entries
        if isinstance(entry, Mapping) and entry.get("hasUsedSystemTypeRelations")
    )
    flagged.pop("", None)
    products = [name for name, count in flagged.most_common() if count >= PRODUCT_MIN_DEPLOYMENTS]
    spelled: dict[str, str] = {}
    for entry in entries:
        original = clean(_details(entry).get("name"))
        spelled.setdefault(original.casefold(), original)
    agencies: dict[str, SourceAgency] = {}
    platforms: dict[str, dict[str, Any]] = {}
    systems: list[SourceRecord] = []
    for index, entry in enumerate(entries):
        location = f"content[{index}]"
        details = _details(entry)
        name = clean(details.get("name"))
        if not name:
            source.problems.append((location, "name", _l("The system has no name.")))
            continue
        owner = details.get("owner") if isinstance(details.get("owner"), Mapping) else {}
        owner_code = clean(owner.get("code"))
        if not owner_code:
            source.problems.append((location, "owner_agency", _l("The system has no owner.")))
            continue
        code = AGENCY_PREFIX + owner_code
        if code not in agencies:
            agencies[code] = SourceAgency(location=location, code=code, name=clean(owner.get("name")) or code)
        values = _system(details, name, code)
        product = _standard_solution(name.casefold(), flagged, products)
        if product is not None:
            values["instance_of"] = f"riha:{product}"
        systems.append(SourceRecord(location=location, values=values))
    deployments = Counter(r.values.get("instance_of") for r in systems)
    deployments.pop(None, None)
    for system in systems:
        external = system.values.get("instance_of")
        if external is None:
            continue
        if deployments[external] < PRODUCT_MIN_DEPLOYMENTS:
            system.values["instance_of"] = None  # one or two bodies: not recognisably a product
            continue
        if external not in platforms:
            product = external.removeprefix("riha:standard:")
            platforms[external] = _platform(external, spelled.get(product, product), deployments[external])
    if platforms:
        agencies[PRODUCT_OWNER.code] = PRODUCT_OWNER
    for platform in platforms.values():
        source.records.append(SourceRecord(location=f"standard solution {platform['name']}", values=platform))
    source.records.extend(systems)
    source.agencies.extend(agencies.values())
    return source


def _details(entry: Any) -> Mapping[str, Any]:
    details = entry.get("details") if isinstance(entry, Mapping) else None
    return details if isinstance(details, Mapping) else {}


def _names(items: Any) -> list[str]:
    if not isinstance(items, list):
        return []
    found = (clean(item.get("name") if isinstance(item, Mapping) else item) for item in items)
    return [name for name in found if name]


def _system(details: Mapping[str, Any], name: str, owner: str) -> dict[str, Any]:
    meta = details.get("meta") if isinstance(details.get("meta"), Mapping) else {}
    status = (meta.get("system_status") or {}).get("status") if isinstance(meta, Mapping) else None
    topics = [clean(t) for t in details.get("topics") or [] if clean(t)]
    stored = _names(details.get("stored_data"))
    purpose = LIST_SEPARATOR.join(topics + stored)
    laws = _names(details.get("legislations"))
    reference = details.get("uuid") or details.get("short_name")
    return {
        "external_id": f"riha:{reference}" if reference else None,
        "name": _limited(name, "name"),
        "description": _limited(clean(details.get("purpose")) or name, "description"),
        "purpose": _limited(purpose, "purpose") if purpose else None,
        "status": STATUS.get(status, "in_operation"),
        "scope_level": "central",
        "is_shared_platform": False,
        "owner_agency": owner,
        "legal_basis": _limited(LIST_SEPARATOR.join(laws), "legal_basis") if laws else None,
    }


def _platform(external: str, name: str, deployments: int) -> dict[str, Any]:
    return {
        "external_id": external,
        "name": _limited(name, "name"),
        "description": f"Standard solution used by {deployments} systems in RIHA.",
        "status": "in_operation",
        "scope_level": "central",
        "is_shared_platform": True,
        "owner_agency": PRODUCT_OWNER.code,
    }
