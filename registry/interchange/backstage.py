"""Backstage software catalog entities (``catalog-info.yaml``), and reading them back.

The portfolio maps onto Backstage's model naturally: a shared platform is a ``System``, every
other system a ``Component`` (``partOf`` its platform through ``spec.system`` when it is a
deployment of one), each agency a ``Group`` (``ownedBy`` through ``spec.owner``, the agency
tree through ``spec.parent``/``spec.children``), and the registry's dependencies become
``spec.dependsOn``. Backstage has no place for most of the registry's fields, so every
interchange column travels as an annotation ``httt-registry/<column>`` (strings, lists joined
by ``"; "``): reading the annotations back gives the same record. Catalogs written elsewhere,
without them, are read from ``metadata`` and ``spec`` (fewer columns, see
``docs/interchange.md``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask_babel import lazy_gettext as _l

from registry.interchange.publiccode import MAX_BYTES, registry_values, safe_documents
from registry.interchange.record import IDENTITY_COLUMNS, LIST_SEPARATOR, WRITABLE_COLUMNS
from registry.interchange.source import Source, SourceAgency, SourceRecord, UnreadableFileError

__all__ = ["ANNOTATION", "component", "entity_name", "group", "read_backstage"]

API_VERSION = "backstage.io/v1alpha1"
ANNOTATION = "httt-registry/"
"""Prefix of the annotations holding the registry's columns (``httt-registry/status``…)."""

LIFECYCLE = {"in_operation": "production", "retired": "deprecated"}
"""Every other status (drafts, proposals, approved but not deployed) is ``experimental``."""
STATUS_OF_LIFECYCLE = {"production": "in_operation", "deprecated": "retired"}

WEBSITE_WORDS = ("cổng thông tin", "trang thông tin", "website", "portal")
NAME_LIMIT = 63
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def entity_name(code: str) -> str:
    """A Backstage entity name from a registry code: ``[A-Za-z0-9]`` joined by ``-_.``, ≤ 63."""
    name = _NOT_NAME.sub("-", code).strip("-_.")[:NAME_LIMIT].strip("-_.")
    return name or "unnamed"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(str(v) for v in value)
    return str(value)


def component(
    record: Mapping[str, Any],
    *,
    dependencies: Iterable[Mapping[str, Any]] = (),
    url: str | None = None,
) -> dict[str, Any]:
    """The entity of one system: ``System`` for a shared platform, ``Component`` otherwise.

    ``dependencies`` are ``{"code", "kind", "note", "is_shared_platform"}`` of the systems this
    one depends on; their kind and note are kept in the ``httt-registry/depends-on``
    annotation (``CODE:kind`` joined by ``"; "``), since ``dependsOn`` has neither.
    """
    values = registry_values(record)
    dependencies = list(dependencies)
    annotations = {
        ANNOTATION + column: _text(values[column])
        for column in (*IDENTITY_COLUMNS, *WRITABLE_COLUMNS)
        if column not in ("name", "description")
    }
    annotations[ANNOTATION + "is_shared_platform"] = _text(bool(values["is_shared_platform"]))
    if dependencies:
        annotations[ANNOTATION + "depends_on"] = LIST_SEPARATOR.join(
            f"{d['code']}:{d.get('kind') or ''}" for d in dependencies
        )
    metadata: dict[str, Any] = {
        "name": entity_name(values["code"] or values["name"] or ""),
        "title": values["name"],
        "description": values["description"],
        "annotations": annotations,
    }
    tags = [entity_name(c.replace("_", "-")).lower() for c in values["capabilities"]]
    if tags:
        metadata["tags"] = tags
    if url:
        metadata["links"] = [{"url": url, "title": "Registry"}]
    owner = f"group:default/{entity_name(values['owner_agency'])}" if values["owner_agency"] else None
    spec: dict[str, Any] = {}
    if values["is_shared_platform"]:
        kind = "System"
        if owner:
            spec["owner"] = owner
    else:
        kind = "Component"
        name = (values["name"] or "").casefold()
        spec["type"] = "website" if any(word in name for word in WEBSITE_WORDS) else "service"
        spec["lifecycle"] = LIFECYCLE.get(values["status"] or "", "experimental")
        if owner:
            spec["owner"] = owner
        if values["instance_of"]:
            spec["system"] = entity_name(values["instance_of"])
        if dependencies:
            spec["dependsOn"] = [
                f"{'system' if d.get('is_shared_platform') else 'component'}:default/{entity_name(d['code'])}"
                for d in dependencies
            ]
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def group(
    agency: Mapping[str, Any], *, parent_code: str | None = None, children: Iterable[str] = ()
) -> dict[str, Any]:
    """The ``Group`` of an agency: ``{"code", "name", "level", "block"}``; type is its level."""
    spec: dict[str, Any] = {
        "type": agency.get("level") or "central",
        "profile": {"displayName": agency["name"]},
        "children": [entity_name(c) for c in children],
    }
    if parent_code:
        spec["parent"] = entity_name(parent_code)
    annotations = {
        ANNOTATION + "code": agency["code"],
        ANNOTATION + "level": agency.get("level") or "central",
        ANNOTATION + "block": agency.get("block") or "state",
    }
    if parent_code:
        annotations[ANNOTATION + "parent"] = parent_code
    return {
        "apiVersion": API_VERSION,
        "kind": "Group",
        "metadata": {
            "name": entity_name(agency["code"]),
            "title": agency["name"],
            "annotations": annotations,
        },
        "spec": spec,
    }


# --- reading ---------------------------------------------------------------------------------


def read_backstage(data: bytes, *, max_bytes: int = MAX_BYTES) -> Source:
    """Systems (``Component``/``System``) and agencies (``Group``) of a Backstage catalog file.

    Other kinds (``API``, ``Resource``, ``User``, ``Location``…) are reported, not guessed at.
    Codes come from the ``httt-registry/*`` annotations where present, else from entity names;
    a group reference (``group:default/x``) names the agency whose code or entity name is ``x``.
    """
    source = Source(format="backstage")
    parsed = safe_documents(data, max_bytes=max_bytes)
    documents = parsed[0] if len(parsed) == 1 and isinstance(parsed[0], list) else parsed
    groups: dict[str, str] = {}
    systems: dict[str, str] = {}
    entities: list[tuple[str, dict[str, Any]]] = []
    index = 0
    for document in documents:
        if document is None:
            continue
        index += 1
        location = f"document {index}"
        if not isinstance(document, dict) or not isinstance(document.get("kind"), str):
            source.problems.append((location, "", _l("This is not a Backstage entity.")))
            continue
        metadata = document.get("metadata")
        if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
            source.problems.append((location, "name", _l("The entity has no metadata.name.")))
            continue
        annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
        code = str(annotations.get(ANNOTATION + "code") or metadata["name"])
        kind = document["kind"]
        if kind == "Group":
            groups[metadata["name"].casefold()] = code
        elif kind == "System":
            systems[metadata["name"].casefold()] = code
        entities.append((location, document))
    for location, document in entities:
        kind, metadata = document["kind"], document["metadata"]
        spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
        annotations = metadata.get("annotations") if isinstance(metadata.get("annotations"), dict) else {}
        if kind == "Group":
            source.agencies.append(_agency(location, metadata, spec, annotations, groups))
        elif kind in ("Component", "System"):
            values = _values(kind, metadata, spec, annotations, groups, systems)
            if not values.get("name"):
                source.problems.append((location, "name", _l("The entity has no title or name.")))
                continue
            source.records.append(SourceRecord(location=location, values=values))
        else:
            source.problems.append(
                (location, "", _l("Entities of kind %(kind)s are not systems; skipped.", kind=str(kind)[:40]))
            )
    if not source.records and not source.agencies and not source.problems:
        raise UnreadableFileError(_l("The file holds no Backstage entity."))
    return source


def _reference(ref: Any, known: Mapping[str, str]) -> str | None:
    """The code behind an entity reference such as ``group:default/tu-nan`` or ``tu-nan``."""
    if not isinstance(ref, str) or not ref:
        return None
    name = ref.rsplit("/", 1)[-1].split(":", 1)[-1]
    return known.get(name.casefold(), name)


def _agency(
    location: str,
    metadata: Mapping[str, Any],
    spec: Mapping[str, Any],
    annotations: Mapping[str, Any],
    groups: Mapping[str, str],
) -> SourceAgency:
    profile = spec.get("profile") if isinstance(spec.get("profile"), dict) else {}
    level = str(annotations.get(ANNOTATION + "level") or spec.get("type") or "central")
    return SourceAgency(
        location=location,
        code=str(annotations.get(ANNOTATION + "code") or metadata["name"]),
        name=str(metadata.get("title") or profile.get("displayName") or metadata["name"]),
        level=level if level in ("central", "province", "commune") else "central",
        block=str(annotations.get(ANNOTATION + "block") or "state"),
        parent_code=annotations.get(ANNOTATION + "parent") or _reference(spec.get("parent"), groups),
    )


def _values(
    kind: str,
    metadata: Mapping[str, Any],
    spec: Mapping[str, Any],
    annotations: Mapping[str, Any],
    groups: Mapping[str, str],
    systems: Mapping[str, str],
) -> dict[str, Any]:
    values: dict[str, Any] = {
        column: annotations[ANNOTATION + column]
        for column in (*IDENTITY_COLUMNS, *WRITABLE_COLUMNS)
        if ANNOTATION + column in annotations
    }
    values["name"] = metadata.get("title") or metadata["name"]
    values["description"] = metadata.get("description")
    if ANNOTATION + "code" not in annotations:
        values["code"] = metadata["name"]
    values.setdefault("is_shared_platform", kind == "System")
    if "status" not in values and isinstance(spec.get("lifecycle"), str):
        values["status"] = STATUS_OF_LIFECYCLE.get(spec["lifecycle"], "draft")
    if "owner_agency" not in values and spec.get("owner"):
        values["owner_agency"] = _reference(spec.get("owner"), groups)
    if "instance_of" not in values and spec.get("system"):
        values["instance_of"] = _reference(spec.get("system"), systems)
    depends_on = annotations.get(ANNOTATION + "depends_on")
    if isinstance(depends_on, str) and depends_on:
        values["depends_on"] = [_dependency(part) for part in depends_on.split(";") if part.strip()]
    elif isinstance(spec.get("dependsOn"), list):
        values["depends_on"] = [
            {"code": _reference(ref, systems) or ref, "kind": None}
            for ref in spec["dependsOn"]
            if isinstance(ref, str)
        ]
    return values


def _dependency(part: str) -> dict[str, Any]:
    code, _, kind = part.strip().rpartition(":")
    return {"code": code, "kind": kind or None} if code else {"code": kind, "kind": None}
