"""Sentence vectors of system texts, kept so that nothing embeds an unchanged text twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class TextEmbedding(SQLModel, table=True):
    """One vector per distinct text, keyed by :func:`similarity.semantic.text_key`.

    The key is the hash of the model and of the exact text, so a vector never goes stale: an
    edited system has a new key, and the old row is simply no longer looked up (the embedding
    job prunes rows no system uses). Stored as float16 (768 bytes for 384 dimensions): cosines
    lose nothing measurable and 100,000 systems take about 80 MB. ``id`` grows with every
    insert, which tells a process cheaply whether new vectors have arrived.
    """

    __tablename__ = "text_embedding"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
