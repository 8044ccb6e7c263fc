"""One system as exchanged with the outside world: the inventory's columns, relations by code.

Exports write this shape (``registry.exports.inventory.COLUMNS``); imports, the REST API and
the ecosystem formats (publiccode.yml, Backstage, RIHA) read it back. Keeping one shape means a
file exported here can be imported elsewhere, and one place decides how a cell of text becomes
a typed value and how a code becomes a row of the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlmodel import Session

from registry.db import ids_by_code
from registry.exports.inventory import COLUMNS
from registry.models import Agency, Capability, DataDomain, InformationSystem
from registry.models.system import (
    BOOLEAN_FIELDS,
    COLUMN_OF_FIELD,
    DATE_FIELDS,
    INTEGER_FIELDS,
    RELATION_LISTS,
    SystemInput,
)

LIST_SEPARATOR = "; "
"""Several codes in one text cell (user agencies, capabilities, data domains)."""

WRITABLE_COLUMNS: tuple[str, ...] = tuple(
    column
    for column in COLUMNS
    if column not in ("code", "owner_agency_name", "external_id", "version", "created_at", "updated_at")
)
"""Columns a record may set; the others of an export (version, timestamps, the owner's name)
describe the registry's copy and are ignored when read back."""

IDENTITY_COLUMNS = ("code", "external_id")

INTEGER_COLUMNS = INTEGER_FIELDS
BOOLEAN_COLUMNS = BOOLEAN_FIELDS
DATE_COLUMNS = DATE_FIELDS
LIST_COLUMNS = frozenset(COLUMN_OF_FIELD[name] for name in RELATION_LISTS)

COLUMN_OF_INPUT_FIELD = COLUMN_OF_FIELD
INPUT_FIELD_OF_COLUMN: dict[str, str] = {v: k for k, v in COLUMN_OF_FIELD.items()}

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "x", "có", "co", "đúng"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "không", "khong", "sai", ""})
WHOLE_NUMBER = re.compile(r"^-?(\d+|\d{1,3}([.,\s\u00a0]\d{3})+)$")
"""Digits, or digits grouped by thousands with dots, commas or spaces (1.000.000 or 1,000,000)."""


def column_of(input_field: str) -> str:
    """The record column a :class:`SystemInput` field (or validation error key) belongs to."""
    return COLUMN_OF_INPUT_FIELD.get(input_field, input_field)


@dataclass
class RecordProblems:
    """Problems found in one record, by column, as translatable messages."""

    by_column: dict[str, list[object]] = field(default_factory=dict)

    def add(self, column: str, message: object) -> None:
        self.by_column.setdefault(column, []).append(message)

    def extend(self, errors: Mapping[str, Iterable[object]]) -> None:
        """Take a :class:`ValidationError`'s errors, renaming input fields to record columns."""
        for name, messages in errors.items():
            for message in messages:
                self.add(column_of(name), message)

    def __bool__(self) -> bool:
        return bool(self.by_column)


def typed(record: Mapping[str, Any], problems: RecordProblems) -> dict[str, Any]:
    """The record's writable values with proper types, whether they came as text or as JSON.

    Text is what CSV and spreadsheets give: lists joined by ``"; "``, booleans as words,
    numbers possibly with thousands separators. A value that cannot be read is reported and left
    out rather than guessed.
    """
    values: dict[str, Any] = {}
    for column, read in READERS:
        if column in record:
            values[column] = read(record[column], column, problems)
    return values


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _text(raw: Any, column: str, problems: RecordProblems) -> str | None:
    if raw.__class__ is str:  # what CSV and XLSX give, 100,000 rows times 20 columns
        return raw if raw and not raw.isspace() else None
    if _blank(raw):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        problems.add(column, _l("Expected text."))
        return None
    return str(raw)


def _codes(raw: Any, column: str, problems: RecordProblems) -> list[str]:
    if raw.__class__ is str and ";" not in raw and "," not in raw:  # one code, or none
        code = raw.strip()
        return [code] if code else []
    if _blank(raw):
        return []
    if isinstance(raw, str):
        parts = raw.replace(",", ";").split(";")
    elif isinstance(raw, list | tuple) and all(isinstance(v, str) for v in raw):
        parts = list(raw)
    else:
        problems.add(column, _l("Expected a list of codes separated by semicolons."))
        return []
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


def _integer(raw: Any, column: str, problems: RecordProblems) -> int | None:
    if raw.__class__ is str and raw.isascii() and raw.isdigit():  # plain digits, the usual cell
        return int(raw)
    if _blank(raw):
        return None
    if isinstance(raw, bool):
        problems.add(column, _l("Expected a whole number."))
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and WHOLE_NUMBER.match(raw.strip()):
        return int(re.sub(r"[^\d-]", "", raw))
    problems.add(column, _l("Expected a whole number, got “%(value)s”.", value=str(raw)[:40]))
    return None


def _boolean(raw: Any, column: str, problems: RecordProblems) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return False
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    word = str(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    problems.add(column, _l("Expected true or false, got “%(value)s”.", value=str(raw)[:40]))
    return False


def _day(raw: Any, column: str, problems: RecordProblems) -> date | None:
    if _blank(raw):
        return None
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    for pattern in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):  # how Vietnamese documents write dates
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    problems.add(column, _l("Expected a date such as 2025-03-31, got “%(value)s”.", value=text[:40]))
    return None


class CodeBook:
    """Codes of agencies, capabilities, data domains and systems, resolved to ids.

    Loaded once per import or request (a few thousand agencies, the taxonomies, the systems'
    codes), so resolving 100,000 records is dictionary lookups; a single API call passes
    ``all_systems=False`` and looks a platform up when it needs one. Systems registered during the
    same import are added with :meth:`learn_system`, so a record may name a platform that an
    earlier record of the same file creates.
    """

    def __init__(self, session: Session, *, all_systems: bool = True):
        self.agencies = ids_by_code(session, Agency)
        self.capabilities = ids_by_code(session, Capability)
        self.data_domains = ids_by_code(session, DataDomain)
        self.systems: dict[str, int] = {}
        self.platforms: set[str] = set()
        self._session = session
        self._all_systems = all_systems
        self.code_of: dict[str, str] = {}
        """A platform named by its external id (another registry's file) → its registry code."""
        if all_systems:
            for code, system_id, shared, external_id in session.execute(
                select(
                    InformationSystem.code,
                    InformationSystem.id,
                    InformationSystem.is_shared_platform,
                    InformationSystem.external_id,
                )
            ):
                self.learn_system(code, system_id, bool(shared))
                if shared and external_id and external_id not in self.systems:
                    self.learn_system(external_id, system_id, True)
                    self.code_of[external_id] = code

    def learn_system(self, code: str, system_id: int, is_shared_platform: bool) -> None:
        self.systems[code] = system_id
        if is_shared_platform:
            self.platforms.add(code)
        else:
            self.platforms.discard(code)

    def to_input(self, values: Mapping[str, Any], problems: RecordProblems) -> SystemInput:
        """A :class:`SystemInput` from typed record values, unknown codes reported by column.

        Blank status means a draft; everything else is left to the shared validation of
        :func:`registry.services.systems.validate_system_input`.
        """
        data = {
            name: values.get(name)
            for name in WRITABLE_COLUMNS
            if name not in INPUT_FIELD_OF_COLUMN and name in values
        }
        platform = values.get("instance_of")
        instance_of_id = self._one(values, "instance_of", self._systems_for(values), problems)
        if instance_of_id is not None and platform not in self.platforms:
            problems.add("instance_of", _l("Only a shared platform can be deployed; this system is not one."))
            instance_of_id = None
        data["status"] = data.get("status") or "draft"
        data["is_shared_platform"] = bool(data.get("is_shared_platform"))
        return SystemInput.of(
            **data,
            instance_of_id=instance_of_id,
            owner_agency_id=self._one(values, "owner_agency", self.agencies, problems),
            operator_agency_id=self._one(values, "operator_agency", self.agencies, problems),
            user_agency_ids=self._many(values, "user_agencies", self.agencies, problems),
            capability_ids=self._many(values, "capabilities", self.capabilities, problems),
            data_domain_ids=self._many(values, "data_domains", self.data_domains, problems),
        )

    def _systems_for(self, values: Mapping[str, Any]) -> dict[str, int]:
        code = values.get("instance_of")
        if code and not self._all_systems and code not in self.systems:
            found = self._session.execute(
                select(InformationSystem.id, InformationSystem.is_shared_platform).where(
                    InformationSystem.code == code
                )
            ).first()
            if found is not None:
                self.learn_system(code, found.id, bool(found.is_shared_platform))
        return self.systems

    @staticmethod
    def _one(
        values: Mapping[str, Any], column: str, known: dict[str, int], problems: RecordProblems
    ) -> int | None:
        code = values.get(column)
        if not code:
            return None
        if code not in known:
            problems.add(column, _l("Unknown code “%(code)s”.", code=str(code)[:60]))
            return None
        return known[code]

    @staticmethod
    def _many(
        values: Mapping[str, Any], column: str, known: dict[str, int], problems: RecordProblems
    ) -> list[int]:
        codes = values.get(column) or []
        missing = [code for code in codes if code not in known]
        if missing:
            problems.add(column, _l("Unknown code(s): %(codes)s.", codes=", ".join(missing)[:200]))
        return [known[code] for code in codes if code in known]


READERS: tuple[tuple[str, Any], ...] = tuple(
    (
        column,
        _codes
        if column in LIST_COLUMNS
        else _integer
        if column in INTEGER_COLUMNS
        else _boolean
        if column in BOOLEAN_COLUMNS
        else _day
        if column in DATE_COLUMNS
        else _text,
    )
    for column in WRITABLE_COLUMNS
)
"""Each writable column with the function that reads its cells, decided once."""
