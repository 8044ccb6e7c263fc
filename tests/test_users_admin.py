"""Account administration from the web and from the command line."""

from __future__ import annotations

from sqlalchemy import select

from registry.models import AuditEvent, User
from registry.services.users import UserInput, update_user
from registry.web.access import password_hasher
from tests.conftest import OPERATOR, PASSWORD, sign_in


def _user(session, username) -> User:
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def test_an_admin_creates_a_submitter_for_an_agency(client, app, make_agency, session):
    agency = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    missing = client.post(
        "/admin/users/new",
        data={"username": "thanhhoa", "full_name": "Lê Văn A", "role": "submitter", "password": PASSWORD},
    )
    assert missing.status_code == 422 and "Người đề xuất đăng ký hệ thống cho một cơ quan" in missing.text
    created = client.post(
        "/admin/users/new",
        data={
            "username": " ThanhHoa ",
            "full_name": "Lê Văn A",
            "role": "submitter",
            "agency_id": agency.id,
            "is_active": "y",
            "password": PASSWORD,
        },
    )
    assert created.status_code == 302
    user = _user(session, "thanhhoa")
    assert (user.role, user.agency_id, user.is_active) == ("submitter", agency.id, True)
    assert "thanhhoa" in client.get("/admin/users/").text
    assert sign_in(app.test_client(), "thanhhoa")
    event = session.scalar(
        select(AuditEvent).where(AuditEvent.action == "user.create", AuditEvent.object_label == "thanhhoa")
    )
    assert event.actor_label == "admin" and event.after["agency"] == "TU-THA"
    duplicate = client.post(
        "/admin/users/new",
        data={"username": "thanhhoa", "full_name": "X", "role": "auditor", "password": PASSWORD},
    )
    assert "Tên đăng nhập này đã được dùng." in duplicate.text


def test_changing_a_role_applies_at_once_and_is_audited(client, app, make_user, session):
    person = make_user("reviewer", username="reviewer1")
    theirs = sign_in(app.test_client(), "reviewer1")
    response = client.post(
        f"/admin/users/{person.id}/edit",
        data={
            "full_name": "Đã đổi vai trò",
            "role": "auditor",
            "is_active": "y",
            "version": str(person.version),
        },
    )
    assert response.status_code == 302
    assert theirs.get("/audit/").status_code == 302  # their old session ended with the old role
    assert sign_in(app.test_client(), "reviewer1").get("/audit/").status_code == 200
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.update"))
    assert event.before == {"full_name": "Test reviewer", "role": "reviewer"}
    assert event.after == {"full_name": "Đã đổi vai trò", "role": "auditor"}


def test_a_stale_account_edit_is_refused(client, app, make_user, session):
    person = make_user("reviewer", username="reviewer1")
    data = UserInput(username=person.username, full_name="Sửa trước", role="reviewer")
    update_user(session, person, data, actor=OPERATOR, hasher=password_hasher(app), expected_version=1)
    session.commit()
    response = client.post(
        f"/admin/users/{person.id}/edit",
        data={"full_name": "Sửa sau", "role": "auditor", "is_active": "y", "version": "1"},
    )
    assert response.status_code == 409
    assert "Người khác đã sửa tài khoản này" in response.text
    assert _user(session, "reviewer1").full_name == "Sửa trước"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client, session):
    admin = _user(session, "admin")
    response = client.post(
        f"/admin/users/{admin.id}/edit",
        data={"full_name": "Admin", "role": "admin", "version": str(admin.version)},
    )
    assert response.status_code == 422
    assert "quản trị viên cuối cùng" in response.text
    assert _user(session, "admin").is_active


def test_the_first_admin_is_created_from_the_command_line(app, session, make_agency):
    runner = app.test_cli_runner()
    weak = runner.invoke(
        args=["users", "create", "root", "--role", "admin", "--name", "Quản trị", "--password", "short"]
    )
    assert weak.exit_code != 0 and "12" in weak.output
    created = runner.invoke(
        args=["users", "create", "root", "--role", "admin", "--name", "Quản trị", "--password", PASSWORD]
    )
    assert created.exit_code == 0, created.output
    assert sign_in(app.test_client(), "root").get("/admin/users/").status_code == 200
    no_agency = runner.invoke(
        args=[
            "users",
            "create",
            "sub",
            "--role",
            "submitter",
            "--name",
            "A",
            "--agency",
            "NOPE",
            "--password",
            PASSWORD,
        ]
    )
    assert no_agency.exit_code != 0 and "NOPE" in no_agency.output
    listing = runner.invoke(args=["users", "list"])
    assert "root\tadmin\t-\tactive" in listing.output
    reset = runner.invoke(args=["users", "set-password", "root", "--password", "another long passphrase"])
    assert reset.exit_code == 0
    assert sign_in(app.test_client(), "root", "another long passphrase")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "user.create"))
    assert event.actor_label == "cli"


def test_demo_accounts_are_seeded_outside_production_only(app, session):
    from registry.services.seed import load_seed

    load_seed(session, demo_users=False)
    session.commit()
    assert session.scalar(select(User.id)) is None
    report = load_seed(session, demo_users=True, hasher=password_hasher(app))
    session.commit()
    assert report.created["users"] == 5
    roles = sorted(session.scalars(select(User.role)))
    assert roles == ["admin", "auditor", "reviewer", "submitter", "submitter"]
    assert all(session.scalars(select(User.is_demo)))
