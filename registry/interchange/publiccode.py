"""publiccode.yml (standard version 0.4): one document per system, and reading them back.

The standard's keys describe the system for catalogues of public software (name, descriptions,
status, users, maintenance, dependencies); they cannot hold everything the registry knows
(scope level, legal basis, hosting, cost…), and a VN country section is not defined. The
registry's own record therefore travels under one custom top-level key, ``x-registry`` (the
``x-`` prefix marks an extension, as OpenAPI does), with exactly the interchange columns: read
back, it gives the same record. A publiccode.yml written elsewhere, without ``x-registry``, is
read from the standard keys, which give fewer columns (see ``docs/interchange.md``).

Reading is defensive: YAML is parsed with the safe loader (no tags, no objects), aliases are
refused (an alias bomb expands to gigabytes), and the file's size is bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

import yaml
from flask_babel import lazy_gettext as _l

from registry import jsonlimits
from registry.interchange.record import IDENTITY_COLUMNS, LIST_COLUMNS, WRITABLE_COLUMNS
from registry.interchange.source import Source, SourceRecord, UnreadableFileError

__all__ = [
    "EXTENSION_KEY",
    "dump_document",
    "read_publiccode",
    "safe_documents",
    "to_publiccode",
]

PUBLICCODE_VERSION = "0.4"
EXTENSION_KEY = "x-registry"
"""The registry's own record inside a publiccode.yml document."""

MAX_BYTES = 100 * 1024 * 1024
"""Files above this are refused before parsing: YAML takes about ten times its size in memory."""

DEVELOPMENT_STATUS = {
    "draft": "concept",
    "submitted": "concept",
    "in_review": "concept",
    "changes_requested": "concept",
    "rejected": "concept",
    "approved": "development",
    "in_operation": "stable",
    "retired": "obsolete",
}
STATUS_OF_DEVELOPMENT = {"stable": "in_operation", "obsolete": "retired"}
"""The other development statuses (concept, development, beta) are read as drafts."""

CATEGORY_OF_CAPABILITY = {
    "document_management": "document-management",
    "e_signature": "e-signature",
    "party_member_records": "hr",
    "party_fee": "accounting",
    "task_monitoring": "task-management",
    "reporting_dashboard": "data-visualization",
    "videoconference": "video-conferencing",
    "paperless_meeting": "collaboration",
    "public_service_portal": "digital-citizenship",
    "one_stop_shop": "digital-citizenship",
    "identity_authentication": "identity-management",
    "data_integration": "it-management",
    "email": "email-management",
    "intranet_portal": "content-management",
    "e_learning": "learning-management-system",
    "inspection_discipline": "compliance-management",
    "complaints_denunciations": "whistleblowing",
    "propaganda_news": "content-management",
    "digital_archive": "digital-asset-management",
    "gis": "geographic-information-systems",
    "ioc": "data-analytics",
    "hr_records": "hr",
    "finance_accounting": "accounting",
    "asset_management": "property-management",
    "survey_polling": "survey",
    "messaging": "instant-messaging",
    "mobile_handbook": "knowledge-management",
    "data_warehouse": "business-intelligence",
    "security_monitoring": "it-security",
    "hosting_compute": "cloud-management",
    "network_connectivity": "network-management",
    "citizen_feedback": "feedback-and-reviews-management",
    "ai_assistant": "knowledge-management",
}
"""Capabilities of the registry's taxonomy → the standard's controlled list of categories."""
DEFAULT_CATEGORY = "business-process-management"
"""``categories`` is mandatory in 0.4; a system whose capabilities map to none gets this one."""

LICENSE = "LicenseRef-proprietary"
SHORT_LIMIT = 150
LONG_MINIMUM = 150


def codes(value: Any) -> list[str]:
    """A list column as a list, whether it came joined by ``"; "`` (inventory rows) or as a list."""
    if not value:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return [str(v) for v in value]


def registry_values(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record's identity and writable columns as plain YAML/JSON values, lists as lists."""
    values: dict[str, Any] = {}
    for column in (*IDENTITY_COLUMNS, *WRITABLE_COLUMNS):
        value = record.get(column)
        if column in LIST_COLUMNS:
            value = codes(value)
        elif isinstance(value, datetime | date):
            value = value.isoformat()[:10]
        values[column] = value
    return values


def _short(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= SHORT_LIMIT else line[: SHORT_LIMIT - 1].rstrip() + "…"


def to_publiccode(
    record: Mapping[str, Any],
    *,
    url: str,
    agency_names: Mapping[str, str] | None = None,
    capability_names: Mapping[str, str] | None = None,
    dependencies: Iterable[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """A publiccode.yml 0.4 document for one inventory record.

    ``url`` is the system's repository, or its page in this registry when no repository is
    known (the registry does not record repositories). ``agency_names`` and
    ``capability_names`` turn codes into the names the standard expects (``usedBy`` lists
    names); ``dependencies`` are ``{"code", "name", "kind", "note"}`` of the systems this one
    depends on.
    """
    agency_names = agency_names or {}
    capability_names = capability_names or {}
    values = registry_values(record)
    dependencies = list(dependencies)
    name = values["name"] or ""
    description = values["description"] or ""
    owner_name = record.get("owner_agency_name") or agency_names.get(values["owner_agency"] or "", "")
    long_description = description
    if values["purpose"]:
        long_description += "\n\n" + values["purpose"]
    if len(long_description) < LONG_MINIMUM:
        facts = [f"{name} ({values['code']})" if values["code"] else name]
        if owner_name:
            facts.append(f"cơ quan chủ quản: {owner_name}")
        if values["legal_basis"]:
            facts.append(f"căn cứ pháp lý: {values['legal_basis']}")
        facts.append(f"hồ sơ đầy đủ trong Danh mục hệ thống thông tin: {url}")
        long_description += "\n\n" + "; ".join(facts) + "."
    capabilities = values["capabilities"]
    features = [capability_names.get(c, c) for c in capabilities] or [_short(description or name)]
    categories = list(
        dict.fromkeys(CATEGORY_OF_CAPABILITY[c] for c in capabilities if c in CATEGORY_OF_CAPABILITY)
    ) or [DEFAULT_CATEGORY]
    status = values["status"] or "draft"
    maintainer = agency_names.get(values["operator_agency"] or "", "") or owner_name
    maintenance: dict[str, Any] = (
        {"type": "none"}
        if status == "retired" or not maintainer
        else {"type": "internal", "contacts": [{"name": maintainer}]}
    )
    document: dict[str, Any] = {
        "publiccodeYmlVersion": PUBLICCODE_VERSION,
        "name": name,
        "url": url,
        "platforms": ["web"],
        "categories": categories,
        "developmentStatus": DEVELOPMENT_STATUS.get(status, "concept"),
        "softwareType": "standalone/web",
        "description": {
            "vi": {
                "shortDescription": _short(description or name),
                "longDescription": long_description,
                "features": features,
            }
        },
        "legal": {"license": LICENSE},
        "maintenance": maintenance,
        "localisation": {"localisationReady": False, "availableLanguages": ["vi"]},
    }
    if owner_name:
        document["legal"]["mainCopyrightOwner"] = owner_name
        document["legal"]["repoOwner"] = owner_name
    used_by = [agency_names.get(c, c) for c in values["user_agencies"]]
    if used_by:
        document["usedBy"] = used_by
    if dependencies:
        document["dependsOn"] = {
            "proprietary": [{"name": d.get("name") or d["code"], "optional": False} for d in dependencies]
        }
    extension = {**values, "is_shared_platform": bool(values["is_shared_platform"])}
    if dependencies:
        extension["depends_on"] = [
            {k: v for k, v in (("code", d["code"]), ("kind", d.get("kind")), ("note", d.get("note"))) if v}
            for d in dependencies
        ]
    document[EXTENSION_KEY] = extension
    return document


class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Never writes anchors and aliases, even when a value object repeats; libyaml's emitter
    (several times faster than PyYAML's own) where it is installed."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _text_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    """Text of several lines as a literal block (``|``), readable as written; PyYAML falls back
    to a quoted style by itself when a block cannot hold the text exactly."""
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_NoAliasDumper.add_representer(str, _text_representer)


def dump_document(document: Mapping[str, Any]) -> str:
    """One YAML document starting with ``---``: plain data only, no tags, keys in given order."""
    return yaml.dump(
        document,
        Dumper=_NoAliasDumper,
        allow_unicode=True,
        sort_keys=False,
        explicit_start=True,
        width=110,
    )


def comment_lines(text: str) -> str:
    """``text`` as YAML comments, so that metadata can head a file and never becomes data."""
    # splitlines() breaks at every character YAML takes for a line break (NEL, LS, PS too), so no
    # part of the text can escape its comment.
    return "".join(f"# {line}\n" for line in text.splitlines() or [""])


# --- reading ---------------------------------------------------------------------------------

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_documents(data: bytes, *, max_bytes: int = MAX_BYTES) -> list[Any]:
    """Every YAML document of ``data``, parsed safely, or :class:`UnreadableFileError`.

    Aliases are refused before anything is built: they are never needed in an exported file,
    and a few lines of nested aliases (a "billion laughs") would otherwise expand to gigabytes
    when the documents are walked or merged.
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
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(_l("The file is not UTF-8 text.")) from exc
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_Loader):
            # The event stream is flat; building the documents recurses once per level.
            depth += isinstance(event, yaml.CollectionStartEvent) - isinstance(event, yaml.CollectionEndEvent)
            if depth > jsonlimits.MAX_DEPTH:
                raise UnreadableFileError.too_deep(jsonlimits.MAX_DEPTH)
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise UnreadableFileError(
                    _l(
                        "The YAML uses anchors or aliases (line %(line)s), which are not accepted.",
                        line=event.start_mark.line + 1,
                    )
                )
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise UnreadableFileError(
            _l("The file is not valid YAML (line %(line)s).", line=mark.line + 1 if mark else "?")
        ) from exc


def _documents(parsed: list[Any]) -> Iterator[tuple[str, Any]]:
    """``(location, document)`` for a multi-document stream, or one document holding a list."""
    if len(parsed) == 1 and isinstance(parsed[0], list):
        for index, item in enumerate(parsed[0], 1):
            yield f"item {index}", item
        return
    index = 0
    for document in parsed:
        if document is None:  # an empty document, e.g. a trailing "---"
            continue
        index += 1
        yield f"document {index}", document


def read_publiccode(data: bytes, *, max_bytes: int = MAX_BYTES) -> Source:
    """Systems from one publiccode.yml, a multi-document stream, or a YAML list of documents."""
    source = Source(format="publiccode")
    for location, document in _documents(safe_documents(data, max_bytes=max_bytes)):
        if not isinstance(document, dict) or "publiccodeYmlVersion" not in document:
            source.problems.append((location, "", _l("This is not a publiccode.yml document.")))
            continue
        values = _values(document)
        if not values.get("name"):
            source.problems.append((location, "name", _l("The document has no name.")))
            continue
        source.records.append(SourceRecord(location=location, values=values))
    if not source.records and not source.problems:
        raise UnreadableFileError(_l("The file holds no publiccode.yml document."))
    return source


def _values(document: Mapping[str, Any]) -> dict[str, Any]:
    """The registry's record: ``x-registry`` where present, completed from the standard keys."""
    extension = document.get(EXTENSION_KEY)
    values: dict[str, Any] = dict(extension) if isinstance(extension, Mapping) else {}
    values.setdefault("name", _string(document.get("name")))
    description = _description(document.get("description"))
    if not values.get("description"):
        values["description"] = description.get("longDescription") or description.get("shortDescription")
    if "status" not in values and isinstance(document.get("developmentStatus"), str):
        values["status"] = STATUS_OF_DEVELOPMENT.get(document["developmentStatus"], "draft")
    return {k: v for k, v in values.items() if k in _KNOWN}


_KNOWN = frozenset({*WRITABLE_COLUMNS, *IDENTITY_COLUMNS, "depends_on"})


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _description(value: Any) -> dict[str, Any]:
    """The Vietnamese description if there is one, else English, else the first language."""
    if not isinstance(value, Mapping) or not value:
        return {}
    for lang in ("vi", "en", *value):
        found = value.get(lang)
        if isinstance(found, Mapping):
            return dict(found)
    return {}
