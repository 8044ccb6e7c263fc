"""``flask --app app …`` commands for the work done outside the browser, one module per group.

Each command is a door like a page or the API: it calls the same service operations and
commits once, through :func:`registry.db.command_session`.
"""

from __future__ import annotations

from flask import Flask

from registry.cli.audit import audit_group
from registry.cli.backup import backup_command, restore_command
from registry.cli.database import db_group, seed_command
from registry.cli.doctor import doctor_command
from registry.cli.embed import embed_command
from registry.cli.exports import export_group
from registry.cli.imports import import_group
from registry.cli.index import index_group
from registry.cli.reporting import reporting_group
from registry.cli.scan import scan_command
from registry.cli.users import users_group
from registry.cli.worker import worker_command


def init_app(app: Flask) -> None:
    app.cli.add_command(db_group)
    app.cli.add_command(seed_command)
    app.cli.add_command(scan_command)
    app.cli.add_command(embed_command)
    app.cli.add_command(index_group)
    app.cli.add_command(users_group)
    app.cli.add_command(audit_group)
    app.cli.add_command(export_group)
    app.cli.add_command(import_group)
    app.cli.add_command(reporting_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(doctor_command)
