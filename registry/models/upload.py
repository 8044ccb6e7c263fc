from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, LargeBinary
from sqlmodel import Field, SQLModel

from registry.models.system import utcnow


class ImportUpload(SQLModel, table=True):
    """A file uploaded for import, kept between its preview and its commit.

    The file is read once, as it arrives: ``parsed`` keeps what the reader made of it, and the
    preview and the commit plan from that, so what is committed is exactly what was previewed
    and a large workbook is not unpacked again on every visit. Kept in the database so any web
    worker or job worker can finish it. Uncommitted uploads are removed after a day.
    """

    __tablename__ = "import_upload"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=43, unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    filename: str = Field(max_length=255)
    format: str = Field(max_length=20)
    default_owner: str | None = Field(default=None, max_length=40)
    """The agency code rows naming no managing agency take: the commit must plan as the preview did."""
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The file as uploaded, kept as evidence (its SHA-256 is in the trail); never read again."""
    parsed: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """``{"source": …}`` as :func:`registry.interchange.source.keep_source` keeps it, or
    ``{"unreadable": message}`` when the file could not be read at all."""
    preview: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    """What the preview shows, as the check job left it for a large file
    (:class:`registry.services.import_preview.PreviewSummary`); cleared when a commit finds the
    registry changed since, so the next visit checks again."""
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False, index=True)
    )
    committed_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True)))
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
