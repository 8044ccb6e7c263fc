"""Operating the registry: the readiness probe, request ids in JSON logs, and ``flask doctor``."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask import Flask, abort, g
from flask_login import current_user
from sqlalchemy import select, text, update
from sqlmodel import Session, col

from registry import logs, migrate
from registry.config import ConfigError, load_settings
from registry.db import get_engine, make_engine
from registry.factory import create_app
from registry.jobs import make_huey, queue_of
from registry.models import InformationSystem, User
from registry.services import doctor as dr
from registry.services import readiness
from registry.services.overlaps import OVERLAP_INDEX, portfolio_index
from registry.web import access
from tests.conftest import PASSWORD

CLOSED_REDIS = "redis://127.0.0.1:1/0"
"""Nothing listens on port 1: connecting is refused at once, as with a Redis that is down."""


# --- /readyz -----------------------------------------------------------------------------------


def test_ready_when_every_check_passes_without_signing_in_or_a_session(anon_client):
    response = anon_client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready" and body["failing"] == []
    assert set(body["checks"]) == {"database", "schema", "index", "queue"}
    assert body["checks"]["schema"]["current"] == body["checks"]["schema"]["head"] == migrate.head_revision()
    assert body["checks"]["queue"]["ok"] is True
    assert "Set-Cookie" not in response.headers


def test_an_unbuilt_index_is_reported_but_does_not_fail_unless_required(app, anon_client):
    body = anon_client.get("/readyz").get_json()
    assert body["checks"]["index"] == {
        "ok": True,
        "status": "not_built",
        "built": False,
        "busy": False,
        "required": False,
    }
    app.config["READY_REQUIRES_INDEX"] = True
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["index"]


def test_the_index_reports_how_far_it_is_behind_the_database(app, session, make_system, anon_client):
    make_system(name="Cổng dịch vụ công tỉnh")
    index = portfolio_index()
    index.current(session)
    assert anon_client.get("/readyz").get_json()["checks"]["index"]["status"] == "ok"

    later = make_system(name="Hệ thống một cửa điện tử")
    moved = datetime.now(UTC) + timedelta(minutes=5)
    session.execute(
        update(InformationSystem).where(col(InformationSystem.id) == later.id).values(updated_at=moved)
    )
    session.commit()
    response = anon_client.get("/readyz")
    index_check = response.get_json()["checks"]["index"]
    assert response.status_code == 200  # the next overlap check catches up by itself
    assert index_check["status"] == "behind" and index_check["changed_since"] == 1
    assert index_check["behind_seconds"] > 0 and index_check["systems"] == 2


def warmed_app(database_url: str) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test",
            "AUTO_SETUP": False,
            "WARM_INDEX": True,
            "READY_REQUIRES_INDEX": True,
        }
    )


def test_a_warmed_worker_is_ready_with_its_index_built_before_any_overlap_check(
    app, make_system, database_url, monkeypatch
):
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    make_system(name="Cổng dịch vụ công tỉnh")
    warmed = warmed_app(database_url)
    try:
        response = warmed.test_client().get("/readyz")
        assert response.status_code == 200
        index = response.get_json()["checks"]["index"]
        assert (index["status"], index["systems"], index["required"]) == ("ok", 1, True)
    finally:
        get_engine(warmed).dispose()


def test_commands_and_an_old_schema_start_without_warming(app, database_url, schema_at, monkeypatch):
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # what every `flask …` command sets
    command = warmed_app(database_url)
    assert not portfolio_index_of(command).state().built
    get_engine(command).dispose()

    monkeypatch.delenv("FLASK_RUN_FROM_CLI")
    schema_at(previous_revision())
    server = warmed_app(database_url)  # starts, and its probe names the schema
    assert not portfolio_index_of(server).state().built
    assert server.test_client().get("/readyz").get_json()["failing"] == ["schema"]
    get_engine(server).dispose()


def test_not_ready_when_the_queue_is_unreachable(app, anon_client):
    queue_of(app).huey = make_huey({"QUEUE_URL": CLOSED_REDIS, "QUEUE_IMMEDIATE": False})
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["queue"]
    assert body["checks"]["queue"] == {
        "ok": False,
        "status": "unreachable",
        "storage": "redis",
        "error": "ConnectionError",
    }


@pytest.fixture
def schema_at(app: Flask) -> Iterator[Callable[[str], None]]:
    """Pretend the database is at another revision, and put the real one back afterwards."""
    engine = get_engine(app)
    head = migrate.head_revision()

    def move(revision: str) -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})

    yield move
    move(head)


def previous_revision() -> str:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    return script.get_revision(migrate.head_revision()).down_revision


def test_not_ready_when_the_schema_is_behind_the_code(anon_client, schema_at):
    schema_at(previous_revision())
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["schema"]  # the index is not checked against an old schema
    assert body["checks"]["schema"]["status"] == "behind"
    assert body["checks"]["index"]["status"] == "not_checked"


def test_a_schema_newer_than_the_code_is_named_as_such(anon_client, schema_at):
    schema_at("9999_from_a_newer_release")
    body = anon_client.get("/readyz").get_json()
    assert body["checks"]["schema"]["status"] == "unknown_revision"


def test_an_unreachable_database_fails_first_and_the_dependent_checks_wait(app, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'registry.sqlite3'}")
    with Session(engine) as broken:
        result = readiness.check(broken, index=portfolio_index_of(app), queue=queue_of(app).huey.storage)
    assert not result.ready and result.failing == ["database"]
    statuses = {check.name: check.status for check in result.checks}
    assert statuses == {
        "database": "unreachable",
        "schema": "not_checked",
        "index": "not_checked",
        "queue": "ok",
    }


def test_a_query_failing_in_the_index_check_is_a_failed_check_not_a_server_error(app, anon_client):
    class Broken:
        def state(self):
            raise RuntimeError("lost")

    app.extensions[OVERLAP_INDEX] = Broken()
    response = anon_client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["index"] == {"ok": False, "status": "error", "error": "RuntimeError"}


def portfolio_index_of(app: Flask):
    with app.app_context():
        return portfolio_index()


# --- request ids and logs ----------------------------------------------------------------------


def test_every_answer_carries_a_request_id_even_a_missing_page(anon_client):
    assert re.fullmatch(r"[0-9a-f]{32}", anon_client.get("/no-such-page").headers["X-Request-ID"])
    kept = anon_client.get("/readyz", headers={"X-Request-ID": "lb-0123456789"})
    assert kept.headers["X-Request-ID"] == "lb-0123456789"
    forged = anon_client.get("/readyz", headers={"X-Request-ID": "x y<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])


def access_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [json.loads(logs.JsonFormatter().format(r)) for r in caplog.records if r.name == "registry.access"]


def test_one_json_access_line_per_request_with_its_id_and_the_account(client, session, caplog):
    caplog.set_level(logging.INFO, logger="registry.access")
    response = client.get("/systems/?q=private+words", headers={"X-Request-ID": "trace-abcdef12"})
    assert response.status_code == 200
    (line,) = access_lines(caplog)
    assert line["user_id"] == session.scalar(select(User.id).where(col(User.username) == "admin"))
    assert line["request_id"] == "trace-abcdef12"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/systems/", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert isinstance(line["cpu_ms"], float) and line["cpu_ms"] >= 0
    assert line["endpoint"] == "systems.index"
    assert line["level"] == "INFO" and line["logger"] == "registry.access"
    assert "private" not in json.dumps(line)  # never the query string


def test_no_password_token_or_form_body_reaches_the_log(app, make_user, anon_client, caplog):
    caplog.set_level(logging.DEBUG)
    make_user("admin", username="logged")
    anon_client.post("/login", data={"username": "logged", "password": PASSWORD})
    anon_client.get("/api/v1/systems", headers={"Authorization": "Bearer secret-token-value-123"})
    written = "\n".join(logs.JsonFormatter().format(r) for r in caplog.records)
    assert "/login" in written
    assert PASSWORD not in written and "secret-token-value-123" not in written


def test_reading_the_schema_revision_writes_no_log_lines(app, anon_client, caplog):
    """The probe reads it every few seconds; Alembic's context would log two lines each time."""
    caplog.set_level(logging.INFO)
    anon_client.get("/readyz")
    assert migrate.current_revision(get_engine(app)) == migrate.head_revision()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []


def test_an_odd_request_user_never_turns_an_answer_into_an_error(app, caplog):
    @app.get("/ops-proxy-user")
    @access.public
    def proxy_user() -> str:
        g._login_user = current_user  # a proxy that resolves to itself, as login_user(current_user) did
        return "fine"

    caplog.set_level(logging.INFO, logger="registry.access")
    response = app.test_client().get("/ops-proxy-user")
    assert (response.status_code, response.text) == (200, "fine")
    assert access_lines(caplog)[0]["user_id"] is None


def test_probes_are_logged_at_debug_so_they_do_not_bury_people(anon_client, caplog):
    caplog.set_level(logging.INFO, logger="registry.access")
    anon_client.get("/readyz")
    anon_client.get("/healthz")
    assert access_lines(caplog) == []


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/ops-crash")
    @access.public
    def crash() -> str:
        logging.getLogger("registry.test").warning("about to fail")
        raise RuntimeError("boom")

    @app.get("/ops-abort")
    @access.public
    def aborted() -> str:
        abort(500)

    return app


def test_a_server_error_is_logged_with_the_request_id_shown_on_its_page(failing_app, caplog):
    caplog.set_level(logging.INFO)
    response = failing_app.test_client().get("/ops-crash", headers={"X-Request-ID": "support-42abc"})
    assert response.status_code == 500
    assert "<code data-request-id>support-42abc</code>" in response.text
    errors = [r for r in caplog.records if r.exc_info]
    assert len(errors) == 1 and errors[0].request_id == "support-42abc"
    assert "RuntimeError: boom" in json.loads(logs.JsonFormatter().format(errors[0]))["exception"]
    earlier = next(r for r in caplog.records if r.name == "registry.test")
    assert earlier.request_id == "support-42abc"  # any line written during the request


def test_an_aborted_request_is_logged_once_too(failing_app, caplog):
    caplog.set_level(logging.INFO)
    response = failing_app.test_client().get("/ops-abort")
    errors = [r for r in caplog.records if r.exc_info]
    assert len(errors) == 1 and errors[0].request_id == response.headers["X-Request-ID"]
    assert response.headers["X-Request-ID"] in response.text


def test_an_api_server_error_names_its_request_id_in_the_body(failing_app):
    @failing_app.get("/api/v1/ops-crash")
    @access.public
    def api_crash() -> str:
        raise RuntimeError("boom")

    response = failing_app.test_client().get("/api/v1/ops-crash", headers={"X-Request-ID": "api-call-0042"})
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "server_error"
    assert response.get_json()["error"]["request_id"] == "api-call-0042"


def test_client_errors_do_not_show_a_reference(anon_client):
    assert "data-request-id" not in anon_client.get("/no-such-page").text


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "text"),
        ({"REGISTRY_ENV": "production", "SECRET_KEY": "k" * 40}, "json"),
        ({"REGISTRY_LOG_FORMAT": "json"}, "json"),
        ({"REGISTRY_ENV": "production", "SECRET_KEY": "k" * 40, "REGISTRY_LOG_FORMAT": "text"}, "text"),
    ],
)
def test_json_logs_in_production_and_text_in_development_unless_told(tmp_path, environ, expected):
    assert load_settings(tmp_path, environ)["LOG_FORMAT"] == expected


@pytest.mark.parametrize("environ", [{"REGISTRY_LOG_FORMAT": "xml"}, {"REGISTRY_LOG_LEVEL": "chatty"}])
def test_an_unknown_log_format_or_level_refuses_to_start(tmp_path, environ):
    with pytest.raises(ConfigError):
        load_settings(tmp_path, environ)


def test_configuring_twice_replaces_only_our_own_handler(monkeypatch):
    logger = logging.getLogger("registry.test.configure")
    logger.propagate = False
    theirs = logging.NullHandler()
    logger.addHandler(theirs)
    try:
        logs.configure(logger, fmt="json", level="INFO")
        ours = logs.configure(logger, fmt="text", level="INFO")
        assert logger.handlers == [theirs, ours]
        later = io.StringIO()
        monkeypatch.setattr(sys, "stderr", later)  # a stream swapped after configuring still gets lines
        logger.info("outside any request")
        assert re.search(r" INFO registry\.test\.configure \[-\] outside any request$", later.getvalue())
    finally:
        logger.handlers.clear()
        logger.propagate = True


# --- flask doctor ------------------------------------------------------------------------------


def doctor(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["doctor", *args])


def test_doctor_passes_a_sound_installation_and_warns_about_development(app):
    app.config["SECRET_KEY"] = "a3f1c9e07b5d2468" * 4
    result = doctor(app)
    assert result.exit_code == 0, result.output
    assert re.search(r"^OK +schema +ok", result.output, re.M)
    assert re.search(r"^OK +queue +ok", result.output, re.M)
    assert re.search(
        r"^WARN environment .*\n +fix: On a server people use, set REGISTRY_ENV=production",
        result.output,
        re.M,
    )
    assert result.output.rstrip().endswith("0 FAIL")


def test_doctor_fails_a_weak_secret_in_production(app):
    app.config.update(REGISTRY_ENV="production", SECRET_KEY="test")
    result = doctor(app)
    assert result.exit_code == 1
    assert re.search(r"^FAIL secret_key +weak: 4 characters", result.output, re.M)
    assert "fix: Set SECRET_KEY to a long random value" in result.output


def test_doctor_fails_a_schema_behind_and_says_to_upgrade(app, schema_at):
    schema_at(previous_revision())
    result = doctor(app)
    assert result.exit_code == 1
    assert re.search(r"^FAIL schema +behind", result.output, re.M)
    assert "fix: Apply the migrations: flask --app app db upgrade" in result.output


def test_doctor_fails_an_unreachable_queue(app):
    queue_of(app).huey = make_huey({"QUEUE_URL": CLOSED_REDIS, "QUEUE_IMMEDIATE": False})
    result = doctor(app)
    assert result.exit_code == 1
    assert re.search(
        r"^FAIL queue +unreachable \(storage=redis, error=ConnectionError\)", result.output, re.M
    )
    assert "fix: Check REGISTRY_QUEUE_URL" in result.output


def test_doctor_fails_an_instance_folder_it_cannot_write(app, tmp_path: Path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    app.instance_path = str(blocker / "instance")
    result = doctor(app)
    assert result.exit_code == 1
    assert re.search(r"^FAIL instance_folder .* is not writable", result.output, re.M)


def test_doctor_warns_of_demo_accounts_outside_production(app, make_user):
    user = make_user("admin", username="demo-admin")
    with app.app_context(), Session(get_engine(app)) as session:
        session.execute(
            text("UPDATE app_user SET is_demo = :yes WHERE id = :id"), {"yes": True, "id": user.id}
        )
        session.commit()
    assert re.search(r"^WARN demo_accounts +1 active demo accounts", doctor(app).output, re.M)
    app.config["REGISTRY_ENV"] = "production"
    assert re.search(r"^OK +demo_accounts +1 active, but they cannot sign in", doctor(app).output, re.M)


def test_doctor_times_the_index_build_when_asked(app, make_system):
    make_system(name="Cổng dịch vụ công tỉnh")
    result = doctor(app, "--fit-index")
    assert re.search(r"^OK +index +built from 1 systems in \d+\.\d s", result.output, re.M)


@pytest.mark.parametrize(
    ("finding", "level", "says"),
    [
        (lambda: dr.database_url("sqlite:////srv/registry.sqlite3", True), "WARN", "Use PostgreSQL"),
        (lambda: dr.database_url("postgresql+psycopg://u:pw@db/registry", True), "OK", "u:***@db"),
        (lambda: dr.queue_url("sqlite:////srv/queue.sqlite3", True), "WARN", "redis://"),
        (lambda: dr.queue_url("sqlite:////srv/queue.sqlite3", False), "OK", "queue.sqlite3"),
        (lambda: dr.proxy(0, True), "WARN", "REGISTRY_PROXY_HOPS"),
        (lambda: dr.log_format("text", True), "WARN", "REGISTRY_LOG_FORMAT=json"),
        (lambda: dr.secret_key({"SECRET_KEY_GENERATED": True}, False), "WARN", "token_hex"),
        (lambda: dr.secret_key({"SECRET_KEY": "ab" * 32}, True), "FAIL", "2 distinct"),
        (lambda: dr.secret_key({"SECRET_KEY": "a3f1c9e07b5d2468" * 4}, True), "OK", "64 characters"),
    ],
)
def test_each_configuration_finding_says_what_to_fix(finding, level, says):
    result = finding()
    assert result.level == level
    assert says in result.summary + " " + result.fix
