"""The application factory: configuration, extensions, blueprints, first-run setup."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from registry import cli, db, i18n, migrate
from registry.config import load_settings
from registry.services.overlaps import OVERLAP_INDEX, PortfolioIndex

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger(__name__)

csrf = CSRFProtect()


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_settings(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)

    db.init_app(app)
    app.extensions[OVERLAP_INDEX] = PortfolioIndex()
    i18n.init_app(app)
    csrf.init_app(app)
    cli.init_app(app)

    from registry.web import agencies, errors, pages, systems, templating

    templating.init_app(app)

    app.register_blueprint(pages.bp)
    app.register_blueprint(systems.bp)
    app.register_blueprint(agencies.bp)
    errors.init_app(app)

    if app.config["AUTO_SETUP"] and not app.config.get("TESTING"):
        first_run_setup(app)
    return app


def first_run_setup(app: Flask) -> None:
    """Give a brand-new SQLite database its schema and the demo portfolio.

    Only SQLite and only when the database is empty: a PostgreSQL database is real data and is
    migrated deliberately with ``flask db upgrade``.
    """
    engine = db.get_engine(app)
    if engine.dialect.name != "sqlite" or not migrate.is_empty(engine):
        return
    from sqlmodel import Session

    from registry.services.overlaps import scan_portfolio
    from registry.services.seed import load_seed

    log.warning("Empty database: creating the schema and loading the demo portfolio…")
    migrate.upgrade(engine)
    with app.app_context(), Session(engine) as session:
        report = load_seed(session)
        scan = scan_portfolio(session)
    log.warning("Demo portfolio loaded: %s", report.summary())
    log.warning("Overlap scan: %s", scan.summary())
