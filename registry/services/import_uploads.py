"""Uploaded import files, kept between the preview and the commit of the two-step import."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import Session, col

from registry.auth import policy
from registry.auth.actor import Actor
from registry.errors import NotFoundError
from registry.models import ImportUpload
from registry.services.imports import ImportResult, commit_import, detect_format

KEPT_FOR = timedelta(days=1)
"""An upload not committed within a day is removed: its preview is stale by then anyway."""


def stage(
    session: Session,
    actor: Actor,
    filename: str,
    data: bytes,
    fmt: str | None = None,
    default_owner: str | None = None,
) -> ImportUpload:
    """Keep the file, and the default managing agency chosen for it, for its preview and commit;
    a fresh token names it in URLs."""
    policy.ensure(policy.allows(actor, policy.Permission.IMPORT))
    assert actor.user_id is not None
    session.execute(
        delete(ImportUpload).where(
            col(ImportUpload.created_at) < datetime.now(UTC) - KEPT_FOR,
            col(ImportUpload.committed_at).is_(None),
        )
    )
    upload = ImportUpload(
        token=secrets.token_urlsafe(24),
        user_id=actor.user_id,
        filename=(filename or "upload")[-255:],
        format=fmt or detect_format(filename, data),
        default_owner=default_owner or None,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        content=data,
    )
    session.add(upload)
    session.flush()
    return upload


def staged(session: Session, actor: Actor, token: str) -> ImportUpload:
    """The actor's own upload; anyone else's is "not found", so tokens cannot be probed."""
    upload = session.scalar(select(ImportUpload).where(col(ImportUpload.token) == token))
    if upload is None or upload.user_id != actor.user_id:
        raise NotFoundError(token)
    return upload


def commit_staged(
    session: Session, actor: Actor, upload: ImportUpload, expected_fingerprint: str
) -> ImportResult:
    """Commit the staged file as previewed; remember the outcome on the upload."""
    result = commit_import(
        session,
        actor,
        upload.filename,
        upload.content,
        fmt=upload.format,
        default_owner=upload.default_owner,
        expected_fingerprint=expected_fingerprint,
    )
    upload.committed_at = datetime.now(UTC)
    upload.result = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "agencies": result.agencies,
        "codes": result.codes[:1000],
    }
    session.flush()
    return result
