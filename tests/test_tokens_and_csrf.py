"""CSRF on every cookie-authenticated write, and bearer tokens for machine clients."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.errors import ValidationError
from registry.models import ApiToken, Dependency, ImportUpload, InformationSystem
from registry.services import tokens
from registry.services.users import UserInput, update_user
from registry.web.access import password_hasher
from tests.conftest import OPERATOR, csrf_token_of, sign_in


@pytest.fixture
def world(make_agency, make_system):
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    platform = make_system(name="VNeID", is_shared_platform=True, status="in_operation")
    draft = make_system(name="Ứng dụng đề xuất", owner_agency_id=province.id)
    return {"province": province, "platform": platform, "draft": draft}


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _issue(session, user, scope="write", days=30) -> str:
    secret = tokens.issue_token(session, user, name="sync", scope=scope, days=days, actor=OPERATOR).secret
    session.commit()
    return secret


@pytest.mark.parametrize("token", [None, "forged-token-value"])
def test_forms_without_a_valid_csrf_token_write_nothing(csrf_app, make_user, world, session, token):
    client = sign_in(csrf_app.test_client(), make_user("admin").username)
    data = {
        "name": "Phần mềm mới",
        "description": "Mô tả",
        "status": "draft",
        "scope_level": "province",
        "owner_agency_id": world["province"].id,
    }
    if token:
        data["csrf_token"] = token
    response = client.post("/systems/new", data=data)
    assert response.status_code == 400
    removal = client.post(
        f"/systems/{world['draft'].code}/dependencies",
        data={"target_code": world["platform"].code, "kind": "authentication"},
    )
    assert removal.status_code == 400
    assert client.post("/logout").status_code == 400
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == 2
    assert session.scalar(select(func.count()).select_from(Dependency)) == 0
    # With the page's token, the same request works.
    data["csrf_token"] = csrf_token_of(client.get("/systems/new").text)
    assert client.post("/systems/new", data=data).status_code == 302


def test_the_login_form_itself_is_protected_against_csrf(csrf_app, make_user):
    user = make_user("reviewer")
    client = csrf_app.test_client()
    response = client.post(
        "/login", data={"username": user.username, "password": "correct horse battery staple"}
    )
    assert response.status_code == 400


def test_the_json_api_with_a_cookie_session_needs_the_csrf_header(csrf_app, make_user, world, session):
    client = sign_in(csrf_app.test_client(), make_user("admin").username)
    url = f"/api/v1/systems/{world['draft'].code}/dependencies"
    body = {"target_code": world["platform"].code, "kind": "authentication"}
    refused = client.post(url, json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["code"] == "bad_request"
    assert session.scalar(select(func.count()).select_from(Dependency)) == 0
    token = csrf_token_of(client.get("/account/").text)
    assert client.post(url, json=body, headers={"X-CSRFToken": token}).status_code == 201


def test_tokens_are_stored_as_digests_only(session, make_user):
    user = make_user("auditor")
    issued = tokens.issue_token(session, user, name="export", scope="read", days=30, actor=Actor.of(user))
    session.commit()
    stored = session.get(ApiToken, issued.token.id)
    assert issued.secret.startswith("htr_") and len(issued.secret) > 40
    assert stored.token_hash == tokens.digest(issued.secret) and issued.secret not in stored.token_hash
    assert stored.prefix == issued.secret[:12]


def test_a_token_needs_no_csrf_and_ignores_cookies(csrf_app, make_user, world, session):
    admin = make_user("admin")
    secret = _issue(session, admin)
    api = csrf_app.test_client()
    url = f"/api/v1/systems/{world['draft'].code}/dependencies"
    body = {"target_code": world["platform"].code, "kind": "authentication"}
    assert api.post(url, json=body, headers=_bearer(secret)).status_code == 201
    # A signed-in browser that sends a bad token is not let in by its cookie.
    browser = sign_in(csrf_app.test_client(), admin.username)
    assert browser.get("/api/v1/me", headers=_bearer("htr_not-a-real-token")).status_code == 401
    assert browser.get("/api/v1/me").get_json()["scope"] == "session"


def test_a_token_posts_the_import_form_without_a_csrf_token(csrf_app, make_user, world, session):
    secret = _issue(session, make_user("admin"))
    upload = {
        "format": "csv",
        "file": (
            io.BytesIO(
                f"name,scope_level,owner_agency\nHệ thống mới,province,{world['province'].code}\n".encode()
            ),
            "a.csv",
        ),
    }
    answer = csrf_app.test_client().post("/imports/", data=upload, headers=_bearer(secret))
    assert answer.status_code == 302 and "/imports/" in answer.headers["Location"]
    assert session.scalar(select(func.count()).select_from(ImportUpload)) == 1
    # The same form from a signed-in browser without the page's token still writes nothing.
    browser = sign_in(csrf_app.test_client(), make_user("admin").username)
    upload["file"] = (io.BytesIO(b"name\nX\n"), "b.csv")
    assert browser.post("/imports/", data=upload).status_code == 400
    assert session.scalar(select(func.count()).select_from(ImportUpload)) == 1


def test_a_read_token_reads_but_cannot_write(client, make_user, world, session):
    secret = _issue(session, make_user("admin"), scope="read")
    me = client.application.test_client().get("/api/v1/me", headers=_bearer(secret))
    assert me.status_code == 200 and me.get_json()["scope"] == "read"
    api = client.application.test_client()
    assert api.get(f"/api/v1/systems/{world['draft'].code}", headers=_bearer(secret)).status_code == 200
    write = api.post(
        f"/api/v1/systems/{world['draft'].code}/dependencies",
        json={"target_code": world["platform"].code, "kind": "authentication"},
        headers=_bearer(secret),
    )
    assert write.status_code == 403
    assert write.get_json()["error"] == {"code": "forbidden", "message": "Token API này chỉ có quyền đọc."}
    assert session.scalar(select(func.count()).select_from(Dependency)) == 0


def test_a_write_token_never_exceeds_its_owners_role(app, make_user, world, session):
    secret = _issue(session, make_user("auditor"), scope="write")
    response = app.test_client().post(
        f"/api/v1/systems/{world['draft'].code}/dependencies",
        json={"target_code": world["platform"].code, "kind": "authentication"},
        headers=_bearer(secret),
    )
    assert response.status_code == 403


def test_a_submitters_token_is_held_to_their_agency(app, make_user, make_agency, make_system, world, session):
    other = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    theirs = make_system(name="Hệ thống của Nghệ An", owner_agency_id=other.id)
    secret = _issue(session, make_user("submitter", agency_id=world["province"].id))
    api = app.test_client()
    body = {"target_code": world["platform"].code, "kind": "authentication"}
    assert (
        api.post(
            f"/api/v1/systems/{theirs.code}/dependencies", json=body, headers=_bearer(secret)
        ).status_code
        == 403
    )
    assert (
        api.post(
            f"/api/v1/systems/{world['draft'].code}/dependencies", json=body, headers=_bearer(secret)
        ).status_code
        == 201
    )


def test_revoked_expired_and_orphaned_tokens_stop_working(app, make_user, session):
    owner = make_user("reviewer")
    api = app.test_client()
    revoked = tokens.issue_token(session, owner, name="a", scope="read", days=30, actor=OPERATOR)
    session.commit()
    assert api.get("/api/v1/me", headers=_bearer(revoked.secret)).status_code == 200
    tokens.revoke_token(session, revoked.token.id, actor=Actor.of(owner))
    session.commit()
    assert api.get("/api/v1/me", headers=_bearer(revoked.secret)).status_code == 401

    expired = tokens.issue_token(
        session,
        owner,
        name="b",
        scope="read",
        days=1,
        actor=OPERATOR,
        now=datetime.now(UTC) - timedelta(days=2),
    )
    session.commit()
    response = api.get("/api/v1/me", headers=_bearer(expired.secret))
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")

    live = _issue(session, owner)
    data = UserInput(username=owner.username, full_name=owner.full_name, role=owner.role, is_active=False)
    update_user(
        session, owner, data, actor=OPERATOR, hasher=password_hasher(app), expected_version=owner.version
    )
    session.commit()
    assert api.get("/api/v1/me", headers=_bearer(live)).status_code == 401


def test_people_issue_and_revoke_their_own_tokens_from_their_account_page(client_for, session):
    client = client_for("auditor", username="kiemtoan")
    issued = client.post(
        "/account/tokens", data={"name": "Xuất dữ liệu hằng tháng", "scope": "read", "days": "90"}
    )
    assert issued.status_code == 201
    secret = issued.text.split("data-new-token>")[1].split("<")[0]
    assert (
        client.application.test_client().get("/api/v1/me", headers=_bearer(secret)).get_json()["username"]
        == "kiemtoan"
    )
    assert secret not in client.get("/account/").text  # shown once only
    token = session.scalar(select(ApiToken))
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    session.refresh(token)
    assert token.revoked_at is not None


def test_nobody_revokes_someone_elses_token(client_for, make_user, session):
    owner = make_user("reviewer")
    issued = tokens.issue_token(session, owner, name="a", scope="read", days=30, actor=OPERATOR)
    session.commit()
    intruder = client_for("auditor")
    assert intruder.post(f"/account/tokens/{issued.token.id}/revoke").status_code == 403
    session.refresh(issued.token)
    assert issued.token.revoked_at is None


@pytest.mark.parametrize(
    ("name", "scope", "days"), [("", "read", 30), ("x", "admin", 30), ("x", "read", 0), ("x", "read", 400)]
)
def test_token_requests_are_validated(session, make_user, name, scope, days):
    with pytest.raises(ValidationError):
        tokens.issue_token(session, make_user("reviewer"), name=name, scope=scope, days=days, actor=OPERATOR)
