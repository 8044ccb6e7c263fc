"""The database drops its connections: the next request still works, with no restart, and a
request caught in the middle gets the registry's own error page, never the server's bare one.

On PostgreSQL the server ends the registry's sessions (``pg_terminate_backend``, what a restart,
a failover or an idle timeout in a proxy does); on SQLite the pooled connections are closed
under the pool, the nearest equivalent.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import create_engine, text

from registry.db import get_engine, get_session
from registry.web import dashboard


def drop_connections(app: Flask, in_use: Any = None) -> None:
    """End every connection the app's pool holds (and ``in_use``, a checked-out SQLAlchemy
    connection), behind the pool's back."""
    engine = get_engine(app)
    if engine.dialect.name == "postgresql":
        killer = create_engine(engine.url)
        with killer.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        killer.dispose()
    else:
        for record in list(engine.pool._pool.queue):  # type: ignore[attr-defined]
            record.dbapi_connection.close()
        if in_use is not None:
            in_use.connection.dbapi_connection.close()


def test_pages_work_again_after_the_database_dropped_every_connection(app, client, make_system):
    make_system(name="Hệ thống quản lý văn bản")
    assert client.get("/systems/").status_code == 200
    drop_connections(app)
    # The pool tests a connection before lending it (pre-ping) and replaces a dead one.
    for url in ("/systems/", "/", "/audit/"):
        assert client.get(url).status_code == 200, url
    assert client.get("/readyz").status_code == 200


def test_a_request_caught_by_the_drop_gets_the_registry_s_error_page(app, client, monkeypatch):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert client.get("/").status_code == 200
    real_figures = dashboard.portfolio_stats

    def dropped_midway(*args: Any, **kwargs: Any) -> Any:
        session = get_session()
        drop_connections(app, in_use=session.connection())
        session.execute(text("SELECT 1"))  # the request's own connection is gone now
        return real_figures(*args, **kwargs)

    monkeypatch.setattr(dashboard, "portfolio_stats", dropped_midway)
    response = client.get("/")
    assert response.status_code == 500
    assert "<html" in response.text and response.headers["X-Request-ID"] in response.text
    monkeypatch.undo()
    assert client.get("/").status_code == 200  # and the next request works, without a restart
