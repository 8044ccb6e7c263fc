"""``flask audit verify``: recompute the audit trail's hash chain."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from registry import db

audit_group = AppGroup("audit", help="Check the audit trail.")


@audit_group.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain; exit with status 1 at the first broken link."""
    from registry.services.audit import verify

    with db.command_session() as session:
        report = verify(session)
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)
