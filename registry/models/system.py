"""The information system: the registry's central record and its many-to-many links."""

from datetime import UTC, date, datetime
from typing import ClassVar, Optional

from sqlalchemy import BigInteger, Column, DateTime, Index, Text
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, Relationship, SQLModel

from registry.models.agency import Agency
from registry.models.taxonomy import Capability, DataDomain


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


class InformationSystem(SQLModel, table=True):
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
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    external_id: str | None = Field(default=None, max_length=200, unique=True)
    name: str = Field(max_length=200)
    description: str = Field(sa_column=Column(Text, nullable=False))
    purpose: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(max_length=32, index=True)
    scope_level: str = Field(max_length=16, index=True)
    is_shared_platform: bool = Field(default=False, index=True)
    instance_of_id: int | None = Field(default=None, foreign_key="information_system.id", index=True)

    owner_agency_id: int = Field(foreign_key="agency.id", index=True)
    operator_agency_id: int | None = Field(default=None, foreign_key="agency.id", index=True)
    legal_basis: str | None = Field(default=None, sa_column=Column(Text))
    mandate: str | None = Field(default=None, sa_column=Column(Text))
    operating_rules_ref: str | None = Field(default=None, max_length=300)
    operating_rules_date: date | None = None
    usage_orientation: str | None = Field(default=None, sa_column=Column(Text))

    hosting: str | None = Field(default=None, max_length=32)
    security_level: int | None = None
    estimated_cost_vnd: int | None = Field(default=None, sa_column=Column(BigInteger))
    funding_source: str | None = Field(default=None, max_length=300)
    target_users: int | None = Field(default=None, sa_column=Column(BigInteger))
    active_users: int | None = Field(default=None, sa_column=Column(BigInteger))
    overlap_justification: str | None = Field(default=None, sa_column=Column(Text))

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

    EDITABLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "description",
        "purpose",
        "status",
        "scope_level",
        "is_shared_platform",
        "legal_basis",
        "mandate",
        "operating_rules_ref",
        "operating_rules_date",
        "usage_orientation",
        "hosting",
        "security_level",
        "estimated_cost_vnd",
        "funding_source",
        "target_users",
        "active_users",
        "overlap_justification",
    )

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, object]:  # noqa: N805 - SQLAlchemy's declared_attr protocol
        return {"version_id_col": cls.__table__.c.version}
