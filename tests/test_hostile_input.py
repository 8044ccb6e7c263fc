"""Input an attacker or a broken client sends: each gets a clear refusal, never a server error."""

from __future__ import annotations

import io

import pytest
from flask import Flask, abort
from sqlalchemy import text

from registry.auth.policy import Permission
from registry.db import get_session
from registry.interchange.publiccode import safe_documents
from registry.interchange.riha import read_riha
from registry.interchange.source import UnreadableFileError
from registry.interchange.tabular import read_json
from registry.services import audit
from registry.web import access
from tests.conftest import OPERATOR, api_tokens, csrf_token_of

DEEP = 100_000
"""Far past the interpreter's recursion limit: the parser itself would overflow."""


def _deep_json(levels: int = DEEP) -> str:
    return '{"name": ' + "[" * levels + "]" * levels + "}"


@pytest.fixture
def tokens(session, make_user):
    return api_tokens(session, {"admin": make_user("admin")})


@pytest.mark.parametrize("path", ["/api/v1/systems", "/api/v1/similar"])
@pytest.mark.parametrize("levels", [DEEP, 65])
def test_deeply_nested_json_is_refused_with_a_reason(client, path, levels):
    response = client.post(path, data=_deep_json(levels), content_type="application/json")
    assert response.status_code == 400
    assert "64 levels" in response.get_json()["error"]["message"]


def test_json_nested_within_the_limit_is_still_read(client):
    body = '{"name": "Quản lý văn bản", "tags": ' + "[" * 60 + "]" * 60 + "}"
    assert client.post("/api/v1/similar", data=body, content_type="application/json").status_code == 200


@pytest.mark.parametrize(
    "read",
    [
        lambda data: read_json(data.encode(), max_records=10),
        lambda data: read_riha(data.encode()),
        lambda data: safe_documents(("a:\n" + "- " * 200 + "x\n").encode()),
        lambda data: safe_documents(("x: " + "[" * 100 + "]" * 100).encode()),
    ],
    ids=["json", "riha", "yaml-block", "yaml-flow"],
)
def test_deeply_nested_import_files_are_unreadable_not_a_crash(app, read):
    with app.test_request_context(), pytest.raises(UnreadableFileError) as refused:
        read(_deep_json())
    assert "64" in str(refused.value.message)


def test_yaml_nested_past_the_parsers_own_limit_is_unreadable(app):
    with app.test_request_context(), pytest.raises(UnreadableFileError):
        safe_documents(("x: " + "[" * DEEP + "]" * DEEP).encode())


def test_a_deep_json_upload_is_explained_on_the_import_page(client, csrf_app, make_agency):
    make_agency(code="TU-THA", level="province", block="locality")
    page = client.get("/imports/")
    response = client.post(
        "/imports/",
        data={
            "csrf_token": csrf_token_of(page.get_data(as_text=True)),
            "file": (io.BytesIO(_deep_json().encode()), "systems.json"),
        },
        content_type="multipart/form-data",
    )
    preview = client.get(response.headers["Location"])
    assert preview.status_code == 422
    assert 'data-import="unreadable"' in preview.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/audit/?page={n}", "/systems/?page={n}", "/review/clusters?page={n}"])
@pytest.mark.parametrize("number", ["1e20", "9" * 30, "-5", "abc"])
def test_any_page_number_gets_a_page(client, path, number):
    assert client.get(path.format(n=number)).status_code == 200


def test_the_audit_action_filter_matches_literally(session):
    for action in ("system.create", "system.submit", "warning.dispose"):
        audit.record(session, OPERATOR, action, object_type="system", object_id=1)
    session.commit()
    assert audit.list_events(session, action="%").total == 0
    assert audit.list_events(session, action="system_").total == 0
    assert audit.list_events(session, action="system.").total == 2


def test_bidirectional_controls_are_removed_from_names(make_system):
    system = make_system(
        name="Cổng dịch vụ công \u202egnôc\u202c \u2066tỉnh\u2069", description="Mô tả \u200fđủ dài"
    )
    assert system.name == "Cổng dịch vụ công gnôc tỉnh"
    assert system.description == "Mô tả đủ dài"


def test_csv_exports_name_their_charset_once(client):
    response = client.get("/exports/systems.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"


def test_a_read_only_token_may_ask_for_similar_systems_but_not_write(client, tokens):
    bearer = {"Authorization": f"Bearer {tokens['read']}"}
    asked = client.post("/api/v1/similar", json={"name": "Quản lý văn bản điều hành"}, headers=bearer)
    assert asked.status_code == 200
    written = client.post("/api/v1/systems", json={"name": "Hệ thống"}, headers=bearer)
    assert written.status_code == 403


@pytest.fixture
def app_with_a_failing_page(app: Flask) -> Flask:
    @app.get("/failing-query")
    @access.allow(Permission.VIEW_PORTFOLIO)
    def failing_query() -> str:
        try:
            get_session().execute(text("SELECT no_such_column FROM no_such_table"))
        except Exception:
            abort(500)
        return "unreachable"

    return app


def test_after_a_database_error_the_error_page_still_renders(app_with_a_failing_page, client_for):
    """PostgreSQL refuses every statement after a failed one until rollback: the error page
    (which reads the signed-in user's agency for the menu) must not be the second casualty."""
    client = client_for("reviewer", username="tinh")
    response = client.get("/failing-query")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "<nav" in html and 'data-account="tinh"' in html  # the whole page, with the signed-in menu


def test_an_upload_over_the_app_wide_limit_reaches_the_import_page(client, csrf_app, make_agency, app):
    """The CSRF check reads the form before the view runs: it must do so under the upload's
    limit, not the app-wide one."""
    make_agency(code="TU-THA", level="province", block="locality")
    padding = b"\r\n" * (app.config["MAX_CONTENT_LENGTH"] // 2 + 1024)
    data = b"name,description,owner_agency,scope_level\r\nHe thong A,Mo ta he thong.,TU-THA,province\r\n"
    token = csrf_token_of(client.get("/imports/").get_data(as_text=True))
    # The body is built here: the test client would spool a large one to a file it never closes.
    body = (
        b'--b\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="list.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + data + padding + b"\r\n--b--\r\n"
    )
    response = client.post("/imports/", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 302
    assert client.get(response.headers["Location"]).status_code == 200
