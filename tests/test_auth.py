"""Signing in and out: generic errors, throttling, session rotation and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from registry.auth.passwords import PROFILES, PasswordHasher
from registry.config import load_settings
from registry.models import LoginFailure, User
from registry.services import login
from registry.services.users import UserInput, update_user
from registry.web.access import SIGNED_IN_AT, password_hasher
from tests.conftest import OPERATOR, PASSWORD, sign_in


def _login(client, username, password=PASSWORD, address="10.0.0.1"):
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_anonymous_visitors_see_only_the_login_page_and_the_health_check(anon_client):
    response = anon_client.get("/systems/?q=văn+bản")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/systems/")
    assert anon_client.get("/login").status_code == 200
    assert anon_client.get("/healthz").status_code == 200
    assert anon_client.get("/api/v1/me").status_code == 401


def test_signing_in_goes_back_to_the_page_asked_for(anon_client, make_user):
    user = make_user("reviewer")
    response = anon_client.post(
        "/login?next=/agencies/", data={"username": user.username.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/agencies/"
    assert anon_client.get("/agencies/").status_code == 200


def test_the_next_parameter_cannot_send_people_off_site(anon_client, make_user):
    user = make_user("reviewer")
    response = anon_client.post(
        "/login?next=//evil.example/", data={"username": user.username, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/systems/"


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(anon_client, make_user):
    user = make_user("reviewer")
    wrong = _login(anon_client, user.username, "not the password at all")
    unknown = _login(anon_client, "nobody-here", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = "Tên đăng nhập hoặc mật khẩu không đúng."
    assert message in wrong.text and message in unknown.text
    assert 'value="not the password at all"' not in wrong.text


def test_a_deactivated_account_cannot_sign_in(anon_client, make_user):
    user = make_user("reviewer", is_active=False)
    assert _login(anon_client, user.username).status_code == 401


def test_failed_logins_on_one_account_are_throttled(anon_client, make_user, session):
    user = make_user("reviewer")
    for _ in range(login.ACCOUNT_LIMIT):
        assert _login(anon_client, user.username, "wrong password!!", address="10.0.0.2").status_code == 401
    # Even the right password is refused now, from any address, and nothing says whether it was right.
    response = _login(anon_client, user.username, address="10.0.0.3")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "Quá nhiều lần đăng nhập không thành công" in response.text
    # Another account from the same address is not affected.
    other = make_user("auditor")
    assert _login(anon_client, other.username, address="10.0.0.2").status_code == 302


def test_failed_logins_from_one_address_are_throttled(anon_client, make_user):
    user = make_user("reviewer")
    for i in range(login.ADDRESS_LIMIT):
        _login(anon_client, f"guess{i}", "wrong password!!", address="10.0.0.9")
    assert _login(anon_client, user.username, address="10.0.0.9").status_code == 429
    assert _login(anon_client, user.username, address="10.0.0.10").status_code == 302


def test_throttling_ends_after_the_window_and_success_clears_the_count(app, session, make_user):
    user = make_user("reviewer")
    start = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)

    def attempt(password: str, minute: int) -> login.LoginResult:
        return login.authenticate(
            session,
            user.username,
            password,
            address="a",
            hasher=password_hasher(app),
            allow_demo=True,
            now=start + timedelta(minutes=minute),
        )

    for minute in range(login.ACCOUNT_LIMIT):
        attempt("bad", minute)
    blocked = attempt(PASSWORD, 5)
    assert blocked.throttled and blocked.retry_after == timedelta(minutes=10)
    assert attempt(PASSWORD, 16).user is not None
    count = select(func.count()).select_from(LoginFailure).where(LoginFailure.username_key == user.username)
    assert session.scalar(count) == 0


def test_signing_in_rotates_the_session(anon_client, make_user):
    user = make_user("reviewer")
    with anon_client.session_transaction() as planted:
        planted["planted_by_attacker"] = "x"
        planted["lang"] = "en"
    before = anon_client.get("/login")
    token_before = before.text.split('name="csrf_token" type="hidden" value="')[-1][:20]
    sign_in(anon_client, user.username)
    with anon_client.session_transaction() as current:
        assert "planted_by_attacker" not in current
        assert current["lang"] == "en"  # the language chosen before signing in is kept
        assert current.get("csrf_token") is None or current["csrf_token"][:20] != token_before
        assert current.permanent


def test_session_cookie_flags(anon_client, make_user):
    user = make_user("reviewer")
    response = _login(anon_client, user.username)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    settings = load_settings("/nonexistent", {"REGISTRY_ENV": "production", "SECRET_KEY": "x" * 64})
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_NAME"] == "__Host-registry"
    assert load_settings("/nonexistent", {})["SESSION_COOKIE_SECURE"] is False


def test_signing_out_needs_a_post_and_ends_the_session(client):
    assert client.get("/logout").status_code == 405
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/systems/").status_code == 302


def test_sessions_end_after_their_absolute_lifetime(client):
    with client.session_transaction() as current:
        current[SIGNED_IN_AT] = (datetime.now(UTC) - timedelta(hours=13)).timestamp()
    assert client.get("/systems/").status_code == 302


def test_deactivating_an_account_ends_its_sessions_at_once(app, client_for, session):
    reviewer = client_for("reviewer", username="reviewer")
    assert reviewer.get("/systems/").status_code == 200
    user = session.scalar(select(User).where(User.username == "reviewer"))
    data = UserInput(username=user.username, full_name=user.full_name, role=user.role, is_active=False)
    update_user(
        session, user, data, actor=OPERATOR, hasher=password_hasher(app), expected_version=user.version
    )
    session.commit()
    assert reviewer.get("/systems/").status_code == 302


def test_changing_ones_password_signs_out_other_sessions_only(app, make_user):
    user = make_user("auditor")
    here, elsewhere = sign_in(app.test_client(), user.username), sign_in(app.test_client(), user.username)
    bad = here.post(
        "/account/password",
        data={"current_password": "wrong", "new_password": "short", "confirm_password": ""},
    )
    assert bad.status_code == 422
    assert "Mật khẩu hiện tại không đúng." in bad.text and "Dùng ít nhất 12 ký tự." in bad.text
    assert 'id="confirm_password-error"' in bad.text and "Hai lần nhập mật khẩu mới không khớp" in bad.text
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a much better passphrase",
            "confirm_password": "a much better passphrase",
        },
    )
    assert response.status_code == 302
    assert here.get("/account/").status_code == 200
    assert elsewhere.get("/account/").status_code == 302
    assert sign_in(app.test_client(), user.username, "a much better passphrase")


def test_demo_accounts_cannot_sign_in_in_production(app, anon_client, make_user, session):
    user = make_user("admin")
    user.is_demo = True
    session.commit()
    app.config["REGISTRY_ENV"] = "production"
    assert _login(anon_client, user.username).status_code == 401
    app.config["REGISTRY_ENV"] = "development"
    assert _login(anon_client, user.username).status_code == 302


def test_passwords_are_hashed_with_argon2id(make_user):
    user = make_user("reviewer")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    production = PasswordHasher("default")
    assert PROFILES["default"].memory_cost == 64 * 1024
    assert production.hash(PASSWORD).startswith("$argon2id$v=19$m=65536,t=3")


def test_an_outdated_hash_is_upgraded_at_the_next_sign_in(app, session, make_user):
    user = make_user("reviewer")
    old = user.password_hash
    stronger = PasswordHasher("default")
    result = login.authenticate(
        session, user.username, PASSWORD, address="a", hasher=stronger, allow_demo=True
    )
    assert result.user is not None
    session.refresh(user)
    assert user.password_hash != old and "m=65536" in user.password_hash
    assert user.version == 1  # signing in does not make an administrator's open edit stale


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "Dùng ít nhất 12 ký tự."), ("aaaaaaaaaaaaaaaa", "Mật khẩu có quá ít ký tự khác nhau.")],
)
def test_weak_passwords_are_refused(client, make_agency, password, message):
    response = client.post(
        "/admin/users/new",
        data={"username": "newperson", "full_name": "Người mới", "role": "auditor", "password": password},
    )
    assert response.status_code == 422 and message in response.text
