"""Capability and data-domain taxonomies: the shared words that make overlaps comparable."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class TaxonomyTerm(SQLModel):
    """A term with a stable code and names in both languages (a data model, not a table)."""

    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=1000)


class Capability(TaxonomyTerm, table=True):
    """A function a system performs (document workflow, e-signature, Party-member records…)."""

    __tablename__ = "capability"

    id: int | None = Field(default=None, primary_key=True)


class DataDomain(TaxonomyTerm, table=True):
    """A kind of data a system holds (Party members, documents, citizens…)."""

    __tablename__ = "data_domain"

    id: int | None = Field(default=None, primary_key=True)
