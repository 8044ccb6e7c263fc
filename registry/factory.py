"""The application factory: configuration, extensions, blueprints, first-run setup."""

from __future__ import annotations

import faulthandler
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlmodel import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from registry import cli, db, i18n, migrate, resources
from registry import jobs as job_queue
from registry.config import load_settings
from registry.services import overlaps

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    # REGISTRY_INSTANCE_PATH moves the instance folder (SQLite database, queue, index snapshot,
    # caches) out of the checkout or the installed package, e.g. to /var/lib/registry.
    instance = os.environ.get("REGISTRY_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance).resolve()) if instance else None,
        instance_relative_config=True,
        template_folder=str(resources.folder("templates")),
        static_folder=str(resources.folder("static")),
    )
    if not faulthandler.is_enabled():
        # A crash inside a native extension (numpy, scikit-learn, the embedder, a driver) then
        # leaves every thread's Python stack in the log, instead of a worker that just vanished.
        faulthandler.enable(all_threads=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_settings(app.instance_path))
    if test_config is not None:
        app.config.from_mapping(test_config)
        if "SECRET_KEY" in test_config:
            app.config["SECRET_KEY_GENERATED"] = False

    if app.config.get("PROXY_HOPS"):
        # Behind a TLS-terminating proxy: trust its X-Forwarded-* so secure cookies, HSTS and
        # the client address used for login throttling are right.
        hops = int(app.config["PROXY_HOPS"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    from registry.web import request_log

    request_log.init_app(app)  # first: every later hook and log line has the request id
    db.init_app(app)
    overlaps.init_app(app)
    i18n.init_app(app)
    job_queue.init_app(app)
    cli.init_app(app)

    from registry.web import (
        access,
        account,
        agencies,
        api,
        audit_trail,
        auth,
        dashboard,
        errors,
        exports,
        graph,
        headers,
        imports,
        jobs,
        notifications,
        pages,
        reporting,
        review,
        scorecards,
        systems,
        templating,
        users,
    )

    access.init_app(app)
    headers.init_app(app)
    templating.init_app(app)

    blueprints = (
        pages,
        auth,
        dashboard,
        systems,
        agencies,
        scorecards,
        review,
        reporting,
        graph,
        notifications,
        exports,
        imports,
        jobs,
        account,
        users,
        audit_trail,
        api,
    )
    for module in blueprints:
        app.register_blueprint(module.bp)
    errors.init_app(app)
    access.check_every_view_is_ruled(app)

    if app.config["AUTO_SETUP"] and not app.config.get("TESTING"):
        first_run_setup(app)
    if app.config.get("WARM_INDEX") and os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        # Only for a server: `flask db upgrade`, `flask worker` and the other commands read the
        # same environment and must neither wait for the index nor need a schema to start.
        warm_index(app)
    return app


def warm_index(app: Flask) -> None:
    """Build the overlap index now, before the process serves anyone.

    Otherwise each web worker builds it at its first overlap check, inside a request that a
    proxy or gunicorn may time out. Under ``gunicorn --preload`` this runs once in the master
    and the forked workers inherit the built index. The connection pool is emptied afterwards:
    connections opened before a fork must not be shared by the children. A database whose
    schema is not the newest is left alone: the readiness probe names that problem instead.
    """
    engine = db.get_engine(app)
    revision = migrate.current_revision(engine)
    if revision != migrate.shipped_head():
        log.warning("Overlap index not built at start: the schema is at %s, not the newest", revision)
        engine.dispose()
        return
    started = time.perf_counter()
    with app.app_context(), Session(engine) as session:
        overlaps.portfolio_index().current(session)
        state = overlaps.portfolio_index().state()
    engine.dispose()
    log.info("Overlap index built from %s systems in %.1f s", state.fitted, time.perf_counter() - started)


FIRST_RUN_STEPS = 6
"""Schema, agencies and taxonomies, systems, demo accounts, reporting round, overlap scan."""


def first_run_setup(app: Flask) -> None:
    """Give a brand-new SQLite database its schema and the demo portfolio.

    Only SQLite and only when the database is empty: a PostgreSQL database is real data and is
    migrated deliberately with ``flask db upgrade``. Each step is logged with its counts and
    time as it ends, so the terminal shows the start moving rather than one silent half-minute.
    """
    engine = db.get_engine(app)
    if engine.dialect.name != "sqlite" or not migrate.is_empty(engine):
        return
    from registry.services.overlaps import scan_portfolio
    from registry.services.seed import SeedReport, load_seed
    from registry.web.access import password_hasher

    clock = FirstRunClock()
    log.warning(
        "Empty database: creating the schema and loading the demo portfolio (%s steps)…", FIRST_RUN_STEPS
    )
    migrate.upgrade(engine)
    clock.step("schema created")

    def seeded(name: str, report: SeedReport) -> None:
        made = report.created
        clock.step(
            {
                "agencies": f"{made.get('agencies', 0)} agencies, "
                f"{made.get('capabilities', 0)} capabilities, {made.get('data_domains', 0)} data domains",
                "systems": f"{made.get('systems', 0)} systems, {made.get('dependencies', 0)} dependencies, "
                f"{made.get('usage_reports', 0)} usage reports; rules checked",
                "users": f"{made.get('users', 0)} demo accounts",
                "rounds": f"{made.get('rounds', 0)} reporting round with its attestations",
            }[name]
        )

    with app.app_context(), db.command_session(engine) as session:
        load_seed(
            session,
            demo_users=app.config["REGISTRY_ENV"] != "production",
            hasher=password_hasher(app),
            step=seeded,
        )
        scan = scan_portfolio(session)
    clock.step(f"overlap scan: {scan.systems} systems compared, {scan.pairs} overlapping pairs")
    log.warning("Demo portfolio ready in %.0f s.", clock.total())


class FirstRunClock:
    """Numbers the first start's steps and times each one, for the log."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.number = 0

    def step(self, what: str) -> None:
        now = time.perf_counter()
        self.number += 1
        log.warning("  %s/%s %s (%.1f s)", self.number, FIRST_RUN_STEPS, what, now - self.last)
        self.last = now

    def total(self) -> float:
        return time.perf_counter() - self.started
