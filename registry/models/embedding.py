"""Sentence vectors of system texts, kept so that nothing embeds an unchanged text twice."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, LargeBinary
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class TextEmbedding(SQLModel, table=True):
    """One vector per distinct text (a name, a description), keyed by
    :func:`similarity.semantic.piece_key`.

    The key is the hash of the model and of the exact text, so a vector never goes stale: an
    edited name has a new key, and the old row is simply no longer looked up. Stored as 384
    signed bytes (:func:`registry.services.vectors.encode`). ``id`` grows with every insert,
    which tells a process cheaply whether new vectors have arrived.
    """

    __tablename__ = "text_embedding"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=32, unique=True)
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
