"""The information system: the registry's central record and its many-to-many links."""

from datetime import UTC, date, datetime
from typing import Any, ClassVar, Optional

import annotated_types
from sqlalchemy import BigInteger, Column, DateTime, Index, Text
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, Relationship, SQLModel

from registry.choices import SystemStatus
from registry.models.agency import Agency
from registry.models.taxonomy import Capability, DataDomain
from registry.text import clean_line, clean_text


def utcnow() -> datetime:
    return datetime.now(UTC)


class SystemUserAgencyLink(SQLModel, table=True):
    __tablename__ = "system_user_agency"

    system_id: int = Field(foreign_key="information_system.id", primary_key=True, ondelete="CASCADE")
    agency_id: int = Field(foreign_key="agency.id", primary_key=True, index=True)


class SystemCapabilityLink(SQLModel, table=True):
    __tablename__ = "system_capability"

    system_id: int = Field(foreign_key="information_system.id", primary_key=True, ondelete="CASCADE")
    capability_id: int = Field(foreign_key="capability.id", primary_key=True, index=True)


class SystemDataDomainLink(SQLModel, table=True):
    __tablename__ = "system_data_domain"

    system_id: int = Field(foreign_key="information_system.id", primary_key=True, ondelete="CASCADE")
    data_domain_id: int = Field(foreign_key="data_domain.id", primary_key=True, index=True)


MULTILINE = {"json_schema_extra": {"multiline": True}}
"""Marks text typed as paragraphs: line breaks are kept, and forms show a text area."""
WEB_ADDRESS = {"json_schema_extra": {"format": "uri"}}
"""Marks text that is a web address: only http(s) addresses are accepted, and pages link to it."""


class SystemBase(SQLModel):
    """What a person sets on a system, with its limits: the one declaration of these fields.

    The table (:class:`InformationSystem`), the services' input (:class:`SystemInput`), the
    validation limits, the forms' lengths, the API's schema and the export and import columns
    are all derived from it, so a new field is added here (and in a migration, a label and the
    form's layout) and nowhere else.
    """

    name: str = Field(max_length=200)
    description: str = Field(max_length=4000, sa_type=Text, schema_extra=MULTILINE)
    purpose: str | None = Field(default=None, max_length=2000, sa_type=Text, schema_extra=MULTILINE)
    status: str = Field(default=SystemStatus.DRAFT.value, max_length=32, index=True)
    scope_level: str | None = Field(default=None, max_length=16, index=True)
    is_shared_platform: bool = Field(default=False, index=True)
    instance_of_id: int | None = Field(default=None, foreign_key="information_system.id", index=True)
    owner_agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    operator_agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    legal_basis: str | None = Field(default=None, max_length=1000, sa_type=Text)
    mandate: str | None = Field(default=None, max_length=1000, sa_type=Text)
    operating_rules_ref: str | None = Field(default=None, max_length=300)
    operating_rules_date: date | None = None
    usage_orientation: str | None = Field(default=None, max_length=2000, sa_type=Text, schema_extra=MULTILINE)
    hosting: str | None = Field(default=None, max_length=32)
    security_level: int | None = Field(default=None, ge=1, le=5)
    estimated_cost_vnd: int | None = Field(default=None, ge=0, le=10**15, sa_type=BigInteger)
    funding_source: str | None = Field(default=None, max_length=300)
    target_users: int | None = Field(default=None, ge=0, le=10**9, sa_type=BigInteger)
    active_users: int | None = Field(default=None, ge=0, le=10**9, sa_type=BigInteger)
    overlap_justification: str | None = Field(
        default=None, max_length=4000, sa_type=Text, schema_extra=MULTILINE
    )
    website_url: str | None = Field(default=None, max_length=500, schema_extra=WEB_ADDRESS)


def _relation(after: str) -> Any:
    return Field(default_factory=list, schema_extra={"json_schema_extra": {"column_after": after}})


class SystemInput(SystemBase):
    """Everything a person can set on a system, relations by id: what every door builds.

    Forms, the seed loader, imports and the API all build one of these, so they share the
    same normalisation and the same rules. It is built without validation (:meth:`of`): the
    service validates it and names every bad field at once, in the person's language.
    """

    user_agency_ids: list[int] = _relation(after="operator_agency_id")
    capability_ids: list[int] = _relation(after="usage_orientation")
    data_domain_ids: list[int] = _relation(after="capability_ids")

    @classmethod
    def of(cls, **values: Any) -> "SystemInput":
        """The input as given, unvalidated (``SystemInput(...)`` would refuse bad values early);
        a field left out takes its default, a required one ``None``, for the service to name.

        What :meth:`model_construct` does, without its inspection of every field's default
        (about 100 µs an input: ten seconds of a 100,000-row import).
        """
        data = {**_DEFAULTS, **values}
        for name in _LIST_FIELDS:
            if name not in values:
                data[name] = []
        made = object.__new__(cls)
        object.__setattr__(made, "__dict__", data)
        object.__setattr__(made, "__pydantic_fields_set__", _ALL_FIELDS)
        object.__setattr__(made, "__pydantic_extra__", None)
        object.__setattr__(made, "__pydantic_private__", None)
        return made

    def as_dict(self) -> dict[str, Any]:
        """The fields as a shallow dict."""
        return {name: getattr(self, name) for name in INPUT_FIELDS}

    def replace(self, **changes: Any) -> "SystemInput":
        return SystemInput.of(**{**self.as_dict(), **changes})

    def normalised(self) -> "SystemInput":
        """A copy with text NFC-normalised and trimmed, empty text as ``None``, ids de-duplicated."""
        values = self.as_dict()
        for name, cleaner in _CLEANERS:
            values[name] = cleaner(values[name])
        for name in RELATION_LISTS:
            ids = values[name]
            values[name] = list(dict.fromkeys(ids if all(v.__class__ is int for v in ids) else map(int, ids)))
        values["status"] = (clean_line(values["status"]) or "").lower()
        values["scope_level"] = (clean_line(values["scope_level"]) or "").lower() or None
        values["hosting"] = (clean_line(values["hosting"]) or "").lower() or None
        return SystemInput.of(**values)

    @classmethod
    def from_system(cls, system: "InformationSystem") -> "SystemInput":
        return cls.of(
            **{name: getattr(system, name) for name in BASE_FIELDS},
            user_agency_ids=[a.id for a in system.user_agencies if a.id is not None],
            capability_ids=[c.id for c in system.capabilities if c.id is not None],
            data_domain_ids=[d.id for d in system.data_domains if d.id is not None],
        )


_DEFAULTS: dict[str, Any] = {
    name: None if f.is_required() or f.default_factory is not None else f.default
    for name, f in SystemInput.model_fields.items()
}
_LIST_FIELDS = tuple(name for name, f in SystemInput.model_fields.items() if f.default_factory is not None)
_ALL_FIELDS = set(SystemInput.model_fields)
"""Every input's set of fields given: all of them. Shared, since pydantic only ever adds to it
names that are already there."""

BASE_FIELDS: tuple[str, ...] = tuple(SystemBase.model_fields)
RELATION_LISTS: tuple[str, ...] = tuple(
    n for n in SystemInput.model_fields if n not in SystemBase.model_fields
)
RELATION_IDS: tuple[str, ...] = ("instance_of_id", "owner_agency_id", "operator_agency_id")
EDITABLE_FIELDS: tuple[str, ...] = tuple(n for n in BASE_FIELDS if n not in RELATION_IDS)
"""The plain columns a person edits (relations are set by id)."""


def _ordered_input_fields() -> tuple[str, ...]:
    order = list(BASE_FIELDS)
    for name in RELATION_LISTS:
        extra = SystemInput.model_fields[name].json_schema_extra
        after = extra.get("column_after") if isinstance(extra, dict) else None
        order.insert(order.index(str(after)) + 1 if after in order else len(order), name)
    return tuple(order)


INPUT_FIELDS: tuple[str, ...] = _ordered_input_fields()
"""Every input field, relation lists placed beside their kin: the order of forms and exports."""


def _plain_type(name: str) -> Any:
    """A field's type without its ``| None``."""
    annotation = SystemBase.model_fields[name].annotation
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    return args[0] if len(args) == 1 else annotation


INTEGER_FIELDS = frozenset(n for n in EDITABLE_FIELDS if _plain_type(n) is int)
BOOLEAN_FIELDS = frozenset(n for n in EDITABLE_FIELDS if _plain_type(n) is bool)
DATE_FIELDS = frozenset(n for n in EDITABLE_FIELDS if _plain_type(n) is date)

COLUMN_OF_FIELD: dict[str, str] = {
    "instance_of_id": "instance_of",
    "owner_agency_id": "owner_agency",
    "operator_agency_id": "operator_agency",
    "user_agency_ids": "user_agencies",
    "capability_ids": "capabilities",
    "data_domain_ids": "data_domains",
}
"""Relations are exchanged by code, in a column named after the relation."""
RECORD_COLUMNS: tuple[str, ...] = tuple(COLUMN_OF_FIELD.get(n, n) for n in INPUT_FIELDS)
"""The columns of a system's record that a person writes, in the order of the inventory."""


def _metadata(name: str, kind: type) -> Any:
    return next((m for m in SystemBase.model_fields[name].metadata if isinstance(m, kind)), None)


TEXT_LIMITS: dict[str, int] = {
    name: limit.max_length
    for name in BASE_FIELDS
    if (limit := _metadata(name, annotated_types.MaxLen)) is not None
    and SystemBase.model_fields[name].annotation in (str, str | None)
    and name not in ("status", "scope_level", "hosting")
}
"""Free text and its length limit, in characters (codes like status are checked as choices)."""
MULTILINE_FIELDS = frozenset(
    name
    for name, f in SystemBase.model_fields.items()
    if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("multiline")
)
WEB_ADDRESS_FIELDS = frozenset(
    name
    for name, f in SystemBase.model_fields.items()
    if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("format") == "uri"
)
NUMBER_LIMITS: dict[str, int] = {
    name: limit.le
    for name in BASE_FIELDS
    if (limit := _metadata(name, annotated_types.Le)) is not None and name != "security_level"
}
"""Whole numbers and their upper bound (the security level is a choice of 1 to 5)."""
_CLEANERS = tuple((name, clean_text if name in MULTILINE_FIELDS else clean_line) for name in TEXT_LIMITS)
"""Each text field with its cleaning, decided once rather than per field of every row."""


class InformationSystem(SystemBase, table=True):
    """A deployed or proposed information system with everything needed to judge it.

    ``version`` is SQLAlchemy's version counter: every UPDATE carries ``WHERE version = n``, so
    two people saving the same stale copy cannot both win, even across web workers.
    ``search_text`` and ``name_key`` are folded copies (lower case, no diacritics) kept so that
    search and sorting work the same on SQLite and PostgreSQL and users may type without tone
    marks.
    """

    __tablename__ = "information_system"
    __table_args__ = (
        # Agency filters read the ids of a province's systems straight from these indexes,
        # without visiting the (wide) rows.
        Index("ix_information_system_owner_id", "owner_agency_id", "id"),
        Index("ix_information_system_operator_id", "operator_agency_id", "id"),
        # "Each agency's systems in operation" (reporting rounds, scorecards, the dashboard's
        # scoped figures) is answered from this index alone.
        Index("ix_information_system_status_owner", "status", "owner_agency_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    scope_level: str = Field(max_length=16, index=True)  # type: ignore[assignment]
    owner_agency_id: int = Field(foreign_key="agency.id", index=True)  # type: ignore[assignment]

    search_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    name_key: str = Field(default="", max_length=200, index=True)
    version: int = Field(default=1)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )

    owner: Agency = Relationship(
        sa_relationship_kwargs={"foreign_keys": "InformationSystem.owner_agency_id", "lazy": "joined"}
    )
    operator: Optional[Agency] = Relationship(  # noqa: UP045 - SQLModel resolves this at runtime
        sa_relationship_kwargs={"foreign_keys": "InformationSystem.operator_agency_id", "lazy": "joined"}
    )
    user_agencies: list[Agency] = Relationship(
        link_model=SystemUserAgencyLink,
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "Agency.name"},
    )
    capabilities: list[Capability] = Relationship(
        link_model=SystemCapabilityLink,
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "Capability.name"},
    )
    data_domains: list[DataDomain] = Relationship(
        link_model=SystemDataDomainLink,
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "DataDomain.name"},
    )
    instance_of: Optional["InformationSystem"] = Relationship(  # noqa: UP045
        sa_relationship_kwargs={"remote_side": "InformationSystem.id", "lazy": "joined"}
    )

    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = EDITABLE_FIELDS

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:  # noqa: N805 - SQLAlchemy's declared_attr protocol
        return {"version_id_col": cls.__table__.c.version}


class SystemCodeCounter(SQLModel, table=True):
    """The last public code number handed out in a year (:mod:`registry.services.codes`).

    On PostgreSQL numbers are reserved from it in short transactions of their own, as from a
    sequence, so concurrent registrations and imports never wait for or collide with each other.
    """

    __tablename__ = "system_code_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = Field(default=0)
