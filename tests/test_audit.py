"""The audit trail: every write leaves a chained event; tampering is found and located."""

from __future__ import annotations

from sqlalchemy import select, text, update

from registry.auth.actor import Actor
from registry.models import AuditEvent, AuditHead, audit_chain
from registry.services import audit
from registry.services.dependencies import add_dependency, remove_dependency
from registry.services.overlaps import scan_portfolio
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR


def _events(session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _history(session, make_system, make_user):
    """A realistic little history: an account, a system, edits, a dependency added and removed."""
    editor = Actor.of(make_user("admin", username="editor"), request_id="req-123456")
    platform = make_system(name="VNeID", is_shared_platform=True)
    system = make_system(name="Cổng dịch vụ công tỉnh")
    data = SystemInput.from_system(system)
    data.name, data.security_level = "Cổng dịch vụ công tỉnh Thanh Hóa", 3
    update_system(session, system, data, actor=editor, expected_version=1)
    session.commit()
    dependency = add_dependency(
        session, system, actor=editor, target_code=platform.code, kind="authentication"
    )
    session.commit()
    remove_dependency(session, system, dependency.id, actor=editor)
    session.commit()
    return system


def test_every_write_appends_an_event_with_actor_request_and_values(session, make_system, make_user):
    system = _history(session, make_system, make_user)
    events = _events(session)
    assert [e.action for e in events] == [
        "user.create",
        "system.create",
        "system.create",
        "system.update",
        "dependency.add",
        "dependency.remove",
    ]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5, 6]
    edit = events[3]
    assert (edit.actor_label, edit.request_id, edit.system_id) == ("editor", "req-123456", system.id)
    assert edit.before == {"version": 1, "name": "Cổng dịch vụ công tỉnh", "security_level": None}
    assert edit.after == {"version": 2, "name": "Cổng dịch vụ công tỉnh Thanh Hóa", "security_level": 3}
    created = events[2].after
    assert (
        created["owner_agency"] == "OWNER" and created["status"] == "draft" and created["code"] == system.code
    )
    assert events[4].after["kind"] == "authentication" and events[5].before["target"]
    assert events[0].before is None and "password" not in str(events[0].after)
    assert events[1].prev_hash == events[0].hash and events[0].prev_hash == audit_chain.GENESIS
    assert audit.verify(session).ok


def test_a_save_that_changes_nothing_records_nothing(session, make_system):
    system = make_system()
    update_system(session, system, SystemInput.from_system(system), actor=OPERATOR, expected_version=1)
    session.commit()
    assert [e.action for e in _events(session)] == ["system.create"]


def test_an_edited_event_is_found(session, make_system, make_user):
    _history(session, make_system, make_user)
    session.execute(text("UPDATE audit_event SET actor_label = 'someone else' WHERE seq = 4"))
    session.commit()
    report = audit.verify(session)
    assert not report.ok
    assert (report.first_problem.seq, report.first_problem.kind) == (4, "content")
    assert report.last_seq == 3


def test_an_edited_value_inside_the_json_is_found(session, make_system, make_user):
    _history(session, make_system, make_user)
    event = session.scalar(select(AuditEvent).where(AuditEvent.seq == 4))
    session.execute(
        update(AuditEvent).where(AuditEvent.seq == 4).values(after={**event.after, "security_level": 1})
    )
    session.commit()
    assert audit.verify(session).first_problem.seq == 4


def test_a_deleted_event_is_found(session, make_system, make_user):
    _history(session, make_system, make_user)
    session.execute(text("DELETE FROM audit_event WHERE seq = 3"))
    session.commit()
    problem = audit.verify(session).first_problem
    assert (problem.seq, problem.kind) == (4, "sequence")
    assert "#3" in problem.message


def test_two_reordered_events_are_found(session, make_system, make_user):
    _history(session, make_system, make_user)
    # Swap the positions of events 2 and 3 (through a free number, as the column is unique).
    for old, new in ((2, 1000), (3, 2), (1000, 3)):
        session.execute(text(f"UPDATE audit_event SET seq = {new} WHERE seq = {old}"))
    session.commit()
    problem = audit.verify(session).first_problem
    assert (problem.seq, problem.kind) == (2, "link")


def test_removing_the_newest_events_is_found_through_the_head(session, make_system, make_user):
    _history(session, make_system, make_user)
    session.execute(text("DELETE FROM audit_event WHERE seq >= 5"))
    session.commit()
    problem = audit.verify(session).first_problem
    assert problem.kind == "tail" and problem.seq == 6


def test_the_chain_continues_after_its_head_row_is_lost(session, make_system):
    make_system()
    session.execute(text("DELETE FROM audit_head"))
    session.commit()
    make_system(name="Hệ thống thứ hai")
    assert audit.verify(session).ok
    assert session.scalar(select(AuditHead.seq)) == 2


def test_the_cli_verifies_the_chain_and_fails_when_broken(app, session, make_system):
    make_system()
    runner = app.test_cli_runner()
    good = runner.invoke(args=["audit", "verify"])
    assert good.exit_code == 0 and "intact: 1 events" in good.output
    session.execute(text("UPDATE audit_event SET action = 'system.delete'"))
    session.commit()
    bad = runner.invoke(args=["audit", "verify"])
    assert bad.exit_code == 1 and "BROKEN at event #1" in bad.output


def test_auditors_verify_the_chain_from_their_page(client_for, session, make_system):
    make_system()
    auditor = client_for("auditor")
    assert 'data-verify="ok"' in auditor.get("/audit/verify").text
    session.execute(text("UPDATE audit_event SET object_label = 'x' WHERE seq = 1"))
    session.commit()
    page = auditor.get("/audit/verify").text
    assert 'data-verify="broken"' in page and "Chuỗi bị đứt tại sự kiện #1." in page


def test_the_audit_page_lists_and_filters_events(client_for, session, make_system, make_user):
    _history(session, make_system, make_user)
    auditor = client_for("auditor")
    page = auditor.get("/audit/").text
    assert "Chỉnh sửa" in page and "Thêm phụ thuộc" in page and "editor" in page
    filtered = auditor.get("/audit/?action=dependency.add").text
    assert (
        "Thêm phụ thuộc" in filtered.split("<tbody>")[1] and "Chỉnh sửa" not in filtered.split("<tbody>")[1]
    )


def test_a_systems_history_page_shows_a_readable_diff(client, session, make_system, make_user):
    system = _history(session, make_system, make_user)
    page = client.get(f"/systems/{system.code}/history").text
    assert "Lịch sử của Cổng dịch vụ công tỉnh Thanh Hóa" in page
    entries = page.split('<li class="card mb-3"')[1:]
    edit = next(entry for entry in entries if "<strong>Chỉnh sửa</strong>" in entry)
    assert "editor" in edit
    assert (
        "<del>Cổng dịch vụ công tỉnh</del>" in edit and "<ins>Cổng dịch vụ công tỉnh Thanh Hóa</ins>" in edit
    )
    assert "Cấp độ an toàn" in edit and "<ins>3</ins>" in edit
    actions = [entry.split("<strong>")[1].split("</strong>")[0] for entry in entries]
    assert actions == ["Xóa phụ thuộc", "Thêm phụ thuộc", "Chỉnh sửa", "Đăng ký"]  # newest first


def test_a_portfolio_scan_is_one_event(session, make_system):
    make_system(name="Phần mềm quản lý văn bản tỉnh A")
    scan_portfolio(session)
    session.commit()
    event = _events(session)[-1]
    assert event.action == "overlap.scan" and event.actor_label == "scan" and event.after["systems"] == 1


def test_the_documented_outside_verifier_agrees(tmp_path, capsys):
    """docs/audit-trail.md's verifier, run as written against a real SQLite database."""
    import re as regex
    from pathlib import Path

    from sqlmodel import Session

    from registry import migrate
    from registry.db import get_engine
    from registry.factory import create_app

    database = tmp_path / "registry.sqlite3"
    # A real app, but without asking its queue for an index snapshot after the first fit: that
    # request is audited from a thread of its own, and would add a third event at any moment.
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{database}",
            "SECRET_KEY": "x",
            "AUTO_SETUP": False,
            "INDEX_AUTO_BUILD": False,
        }
    )
    engine = get_engine(app)
    migrate.upgrade(engine)
    with app.app_context(), Session(engine) as db_session:
        from registry.models import Agency
        from registry.services.systems import create_system

        agency = Agency(code="VPTW", name="Văn phòng Trung ương Đảng", level="central", block="party")
        db_session.add(agency)
        db_session.commit()
        for name in ("Hệ thống điều hành", "Cổng thông tin — “điện tử”"):
            create_system(
                db_session,
                SystemInput.of(
                    name=name, description="Mô tả", scope_level="central", owner_agency_id=agency.id
                ),
                actor=OPERATOR,
            )
            db_session.commit()
    engine.dispose()
    doc = (Path(__file__).resolve().parent.parent / "docs" / "audit-trail.md").read_text(encoding="utf-8")
    code = (
        regex.search(r"```python\n(.*?)```", doc, regex.S)
        .group(1)
        .replace('"registry.sqlite3"', repr(str(database)))
    )
    exec(compile(code, "audit-trail.md", "exec"), {})  # noqa: S102 - our own documentation
    assert capsys.readouterr().out.startswith("intact up to 2 ")


def test_events_appended_in_bulk_chain_and_read_back_like_single_ones(session, make_system):
    system = make_system(name="Hệ thống một cửa")
    tricky = 'Nhãn ,"object_id":"x", "after": {} \\" “ngoặc” \u2028'
    events = [
        {
            "action": "system.create",
            "object_type": "system",
            "object_id": f"HTTT-2026-{n:06d}",
            "object_label": tricky,
            "system_id": system.id,
            "before": None if n % 2 else {"name": tricky, "capabilities": [1, None, True]},
            # Keys out of order, nested: every key has a label, as recording requires.
            "after": {"name": "Văn bản", "filters": {"status": 1, "q": [tricky]}, "version": n},
        }
        for n in range(5)
    ]
    assert audit.record_many(session, OPERATOR, events, native=True) == 5
    audit.record(session, OPERATOR, "system.update", object_type="system", object_id="after-bulk")
    session.commit()
    stored = _events(session)[-6:]
    assert [e.object_id for e in stored] == [f"HTTT-2026-{n:06d}" for n in range(5)] + ["after-bulk"]
    assert [(e.before, e.after) for e in stored[:5]] == [(e["before"], e["after"]) for e in events]
    assert stored[0].object_label == tricky and stored[0].system_id == system.id
    assert all(e.prev_hash == p.hash for p, e in zip(stored, stored[1:], strict=False))
    assert audit.verify(session).ok
    for event in stored[:5]:  # each hash is the one canonical() gives for what was stored
        assert event.hash == audit_chain.chain_hash(event.prev_hash, event.__dict__)
