"""Usage reports and reporting rounds: filing, attesting, progress, reminders, permissions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.errors import PermissionDeniedError, ValidationError
from registry.models import (
    AuditEvent,
    Finding,
    Notification,
    OutboxMessage,
    RoundAgency,
    SystemAttestation,
    UsageReport,
)
from registry.models.system import SystemInput
from registry.services import reporting
from registry.services.reporting import ReportingError, RoundInput
from registry.services.usage import UsageInput, file_usage_report
from tests.conftest import OPERATOR

TODAY = date(2026, 12, 7)
PERIOD = (date(2026, 1, 1), date(2026, 6, 30))
DEADLINE = date(2026, 12, 20)


def figures(**overrides: Any) -> UsageInput:
    values: dict[str, Any] = {
        "period_start": PERIOD[0],
        "period_end": PERIOD[1],
        "active_users": 1200,
        "transactions": 45_000,
        "cost_vnd": 350_000_000,
        "note": None,
    }
    values.update(overrides)
    return UsageInput(**values)


def count(session, model, *conditions) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


@pytest.fixture
def world(session, make_agency, make_system, make_user) -> dict[str, Any]:
    """Three provinces, each with its submitter; A and B run systems, C runs none."""
    agencies = {
        key: make_agency(code=f"TU-{key}", name=f"Tỉnh ủy {key}", level="province", block="locality")
        for key in ("A", "B", "C")
    }
    systems = {
        "a1": make_system(name="Cổng thông tin A", owner_agency_id=agencies["A"].id, status="in_operation"),
        "b1": make_system(name="Quản lý văn bản B", owner_agency_id=agencies["B"].id, status="in_operation"),
        "b2": make_system(name="Quản lý hồ sơ B", owner_agency_id=agencies["B"].id, status="in_operation"),
        "b_draft": make_system(name="Đề xuất B", owner_agency_id=agencies["B"].id),
    }
    users = {key: make_user("submitter", agency_id=agency.id) for key, agency in agencies.items()}
    users["reviewer"] = make_user("reviewer")
    users["admin"] = make_user("admin")
    actors = {key: Actor.of(user) for key, user in users.items()}
    return {"agencies": agencies, "systems": systems, "users": users, "actors": actors}


def open_test_round(session, world, **overrides: Any):
    values: dict[str, Any] = {
        "title": "Báo cáo 6 tháng đầu năm 2026",
        "period_start": PERIOD[0],
        "period_end": PERIOD[1],
        "deadline": DEADLINE,
        "agency_ids": tuple(a.id for a in world["agencies"].values()),
    }
    values.update(overrides)
    round_ = reporting.open_round(
        session, RoundInput(**values), actor=world["actors"]["reviewer"], today=TODAY
    )
    session.commit()
    return round_


def states(session, round_id: int, today: date = TODAY) -> dict[str, tuple[str, int]]:
    return {p.code: (p.state, p.days_late) for p in reporting.round_progress(session, round_id, today=today)}


# --- usage reports -------------------------------------------------------------------------------


def test_filing_a_report_stores_who_filed_it_and_audits_it(session, world):
    system = world["systems"]["a1"]
    report, changed = file_usage_report(session, system, figures(), actor=world["actors"]["A"], today=TODAY)
    session.commit()
    assert changed
    assert (report.active_users, report.transactions, report.cost_vnd) == (1200, 45_000, 350_000_000)
    assert report.filed_by_id == world["users"]["A"].id
    assert report.filed_at is not None
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "usage.file")).one()
    assert event.system_id == system.id
    assert event.after["active_users"] == 1200


def test_refiling_the_same_period_corrects_it_with_before_and_after(session, world):
    system = world["systems"]["a1"]
    file_usage_report(session, system, figures(), actor=world["actors"]["A"], today=TODAY)
    report, changed = file_usage_report(
        session, system, figures(active_users=1500), actor=world["actors"]["A"], today=TODAY
    )
    session.commit()
    assert changed
    assert count(session, UsageReport, UsageReport.system_id == system.id) == 1
    assert report.active_users == 1500
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "usage.correct")).one()
    assert event.before == {"period_start": "2026-01-01", "period_end": "2026-06-30", "active_users": 1200}
    assert event.after == {"period_start": "2026-01-01", "period_end": "2026-06-30", "active_users": 1500}


def test_refiling_identical_figures_records_nothing(session, world):
    system = world["systems"]["a1"]
    file_usage_report(session, system, figures(), actor=world["actors"]["A"], today=TODAY)
    _report, changed = file_usage_report(session, system, figures(), actor=world["actors"]["A"], today=TODAY)
    session.commit()
    assert not changed
    assert count(session, AuditEvent, AuditEvent.action.startswith("usage.")) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period_end": date(2025, 12, 31)}, "period_end"),
        ({"period_start": None}, "period_start"),
        ({"period_end": None}, "period_end"),
        ({"period_start": date(2027, 1, 1), "period_end": date(2027, 6, 30)}, "period_start"),
        ({"period_start": date(2024, 1, 1), "period_end": date(2026, 6, 30)}, "period_end"),
        ({"active_users": -1}, "active_users"),
        ({"transactions": -5}, "transactions"),
        ({"cost_vnd": 10**16}, "cost_vnd"),
        ({"active_users": None, "transactions": None, "cost_vnd": None}, "active_users"),
        ({"note": "x" * 501}, "note"),
    ],
)
def test_invalid_reports_name_the_field(session, world, overrides, field):
    with pytest.raises(ValidationError) as caught:
        file_usage_report(
            session, world["systems"]["a1"], figures(**overrides), actor=world["actors"]["A"], today=TODAY
        )
    assert field in caught.value.errors


def test_only_deployed_systems_get_usage_reports(session, world):
    with pytest.raises(ValidationError) as caught:
        file_usage_report(
            session, world["systems"]["b_draft"], figures(), actor=world["actors"]["B"], today=TODAY
        )
    assert "system" in caught.value.errors


@pytest.mark.parametrize("who", ["B", "reviewer"])
def test_only_the_managing_agency_and_admins_report(session, world, who):
    with pytest.raises(PermissionDeniedError):
        file_usage_report(session, world["systems"]["a1"], figures(), actor=world["actors"][who], today=TODAY)
    report, _ = file_usage_report(
        session, world["systems"]["a1"], figures(), actor=world["actors"]["admin"], today=TODAY
    )
    assert report.id is not None


def test_a_read_only_token_cannot_file(session, world):
    reader = Actor.of(world["users"]["A"], scope="read")
    with pytest.raises(PermissionDeniedError):
        file_usage_report(session, world["systems"]["a1"], figures(), actor=reader, today=TODAY)


def test_a_report_clears_rule_r9(session, world):
    system = world["systems"]["a1"]
    assert count(session, Finding, Finding.system_id == system.id, Finding.rule_code == "R9") == 1
    file_usage_report(
        session,
        system,
        figures(period_start=date(2026, 7, 1), period_end=date(2026, 11, 30)),
        actor=world["actors"]["A"],
        today=TODAY,
    )
    session.commit()
    assert count(session, Finding, Finding.system_id == system.id, Finding.rule_code == "R9") == 0


# --- rounds: opening -----------------------------------------------------------------------------


def test_opening_a_round_covers_the_agencies_and_tells_their_accounts(session, world):
    round_ = open_test_round(session, world)
    assert round_.status == "open"
    assert count(session, RoundAgency, RoundAgency.round_id == round_.id) == 3
    assert count(session, Notification, Notification.kind == "round_opened") == 3
    assert count(session, OutboxMessage) == 3
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "round.open")).one()
    assert event.after["agencies"] == ["TU-A", "TU-B", "TU-C"]


def test_a_round_may_cover_every_agency_of_a_level(session, world, make_agency):
    make_agency(code="VP-TW", name="Văn phòng Trung ương", level="central")
    round_ = open_test_round(session, world, agency_ids=(), level="province")
    assert {p.code for p in reporting.round_progress(session, round_.id, today=TODAY)} == {
        "TU-A",
        "TU-B",
        "TU-C",
    }


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": " "}, "title"),
        ({"period_end": date(2025, 1, 1)}, "period_end"),
        ({"deadline": date(2026, 12, 1)}, "deadline"),
        ({"deadline": date(2026, 6, 1), "period_end": date(2026, 6, 30)}, "deadline"),
        ({"agency_ids": ()}, "agency_ids"),
        ({"agency_ids": (999_999,)}, "agency_ids"),
        ({"agency_ids": (), "level": "galaxy"}, "level"),
    ],
)
def test_invalid_rounds_name_the_field(session, world, overrides, field):
    with pytest.raises(ValidationError) as caught:
        open_test_round(session, world, **overrides)
    assert field in caught.value.errors


@pytest.mark.parametrize("who", ["A", "auditor"])
def test_only_the_standing_office_and_admins_open_rounds(session, world, make_user, who):
    actor = world["actors"].get(who) or Actor.of(make_user(who))
    with pytest.raises(PermissionDeniedError):
        reporting.open_round(
            session,
            RoundInput(
                title="x",
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                deadline=DEADLINE,
                agency_ids=(world["agencies"]["A"].id,),
            ),
            actor=actor,
            today=TODAY,
        )


# --- rounds: states ------------------------------------------------------------------------------


def test_round_states_open_attested_late_and_closed(session, world):
    round_ = open_test_round(session, world)
    assert states(session, round_.id) == {
        "TU-A": ("not_started", 0),
        "TU-B": ("not_started", 0),
        "TU-C": ("not_started", 0),
    }

    # A attests and reports its only system: done, by itself.
    a1 = world["systems"]["a1"]
    reporting.attest_system(session, round_.id, a1, actor=world["actors"]["A"], outcome="confirmed")
    assert states(session, round_.id)["TU-A"] == ("in_progress", 0)
    file_usage_report(session, a1, figures(), actor=world["actors"]["A"], today=TODAY)
    session.commit()
    assert states(session, round_.id)["TU-A"] == ("completed", 0)
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "round.complete")).one().after == {
        "agency": "TU-A",
        "no_systems": None,
    }

    # B attests one of two systems: in progress; after the deadline, late by the days since.
    reporting.attest_system(
        session, round_.id, world["systems"]["b1"], actor=world["actors"]["B"], outcome="confirmed"
    )
    session.commit()
    assert states(session, round_.id)["TU-B"] == ("in_progress", 0)
    after_deadline = DEADLINE + timedelta(days=9)
    assert states(session, round_.id, after_deadline) == {
        "TU-A": ("completed", 0),
        "TU-B": ("late", 9),
        "TU-C": ("late", 9),
    }
    progress = {p.code: p for p in reporting.round_progress(session, round_.id, today=after_deadline)}
    assert (progress["TU-B"].systems, progress["TU-B"].attested, progress["TU-B"].with_usage) == (2, 1, 0)
    assert progress["TU-B"].started and not progress["TU-C"].started
    summary = reporting.summarise(round_, progress.values())
    assert (summary.completed, summary.not_reported) == (1, 1)

    # Closing freezes the round: nothing more is attested in it.
    reporting.close_round(session, round_.id, actor=world["actors"]["reviewer"])
    session.commit()
    assert round_.status == "closed" and round_.closed_at is not None
    with pytest.raises(ReportingError):
        reporting.attest_system(
            session, round_.id, world["systems"]["b2"], actor=world["actors"]["B"], outcome="confirmed"
        )
    with pytest.raises(ReportingError):
        reporting.close_round(session, round_.id, actor=world["actors"]["reviewer"])


def test_an_agency_without_systems_completes_by_saying_so(session, world):
    round_ = open_test_round(session, world)
    with pytest.raises(ReportingError):
        reporting.confirm_no_systems(
            session, round_.id, world["agencies"]["B"].id, actor=world["actors"]["B"]
        )
    reporting.confirm_no_systems(session, round_.id, world["agencies"]["C"].id, actor=world["actors"]["C"])
    session.commit()
    assert states(session, round_.id)["TU-C"] == ("completed", 0)


def test_a_correction_saves_the_system_then_attests(session, world):
    round_ = open_test_round(session, world)
    system = world["systems"]["b1"]
    changed = SystemInput.from_system(system).model_copy(update={"legal_basis": "Quyết định 204-QĐ/TW"})
    reporting.attest_system(
        session,
        round_.id,
        system,
        actor=world["actors"]["B"],
        outcome="corrected",
        correction=changed,
        expected_version=system.version,
    )
    session.commit()
    assert system.legal_basis == "Quyết định 204-QĐ/TW"
    actions = [e.action for e in session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(2))]
    assert actions == ["system.attest", "system.update"]
    with pytest.raises(ValidationError):
        reporting.attest_system(
            session,
            round_.id,
            system,
            actor=world["actors"]["B"],
            outcome="corrected",
            correction=SystemInput.from_system(system),
            expected_version=system.version,
        )


@pytest.mark.parametrize("who", ["A", "reviewer"])
def test_submitters_attest_only_their_own_agency(session, world, who):
    round_ = open_test_round(session, world)
    with pytest.raises(PermissionDeniedError):
        reporting.attest_system(
            session, round_.id, world["systems"]["b1"], actor=world["actors"][who], outcome="confirmed"
        )
    assert count(session, SystemAttestation) == 0


def test_a_round_not_covering_the_agency_refuses_its_attestations(session, world):
    round_ = open_test_round(session, world, agency_ids=(world["agencies"]["A"].id,))
    with pytest.raises(ReportingError):
        reporting.attest_system(
            session, round_.id, world["systems"]["b1"], actor=world["actors"]["B"], outcome="confirmed"
        )


def test_latest_attestations_give_each_system_its_last_time(session, world):
    round_ = open_test_round(session, world)
    b1 = world["systems"]["b1"]
    first = reporting.attest_system(session, round_.id, b1, actor=world["actors"]["B"], outcome="confirmed")
    first.attested_at = datetime(2026, 1, 5, tzinfo=UTC)
    second = reporting.attest_system(session, round_.id, b1, actor=world["actors"]["B"], outcome="confirmed")
    session.commit()
    latest = reporting.latest_attestations(session)
    assert set(latest) == {b1.id}
    assert latest[b1.id] == second.attested_at
    assert reporting.latest_attestations(session, [world["systems"]["a1"].id]) == {}


# --- reminders -----------------------------------------------------------------------------------


def test_reminders_go_to_agencies_not_done_once_a_day(session, world):
    round_ = open_test_round(session, world)
    reporting.confirm_no_systems(session, round_.id, world["agencies"]["C"].id, actor=world["actors"]["C"])
    session.commit()
    before = count(session, Notification, Notification.kind == "round_reminder")
    late = datetime(2026, 12, 22, 8, 0, tzinfo=UTC)  # two days after the deadline
    report = reporting.send_reminders(session, actor=OPERATOR, now=late)
    session.commit()
    assert (report.rounds, report.agencies, report.messages) == (1, 2, 2)
    reminded = session.scalars(select(Notification).where(Notification.kind == "round_reminder")).all()
    assert {n.user_id for n in reminded} == {world["users"]["A"].id, world["users"]["B"].id}
    assert reminded[0].details["days_late"] == 2
    assert before == 0

    again = reporting.send_reminders(session, actor=OPERATOR, now=late + timedelta(hours=10))
    session.commit()
    assert again.messages == 0
    assert count(session, AuditEvent, AuditEvent.action == "round.remind") == 1

    next_day = reporting.send_reminders(session, actor=OPERATOR, now=late + timedelta(days=1))
    assert next_day.messages == 2
    parts = session.scalars(select(RoundAgency).where(RoundAgency.round_id == round_.id)).all()
    assert sorted(p.reminder_count for p in parts) == [0, 2, 2]


def test_submitters_cannot_send_reminders(session, world):
    open_test_round(session, world)
    with pytest.raises(PermissionDeniedError):
        reporting.send_reminders(session, actor=world["actors"]["A"])


def test_the_remind_command_sends_and_reports(app, session, world):
    open_test_round(session, world)
    result = app.test_cli_runner().invoke(args=["reporting", "remind"])
    assert result.exit_code == 0, result.output
    assert "3 reminders to 3 agencies in 1 open rounds" in result.output
    session.expire_all()
    assert count(session, Notification, Notification.kind == "round_reminder") == 3


def test_an_extension_keeps_one_agency_from_being_late(session, world):
    round_ = open_test_round(session, world)
    b = world["agencies"]["B"].id
    reporting.extend_deadline(
        session, round_.id, b, DEADLINE + timedelta(days=14), actor=world["actors"]["reviewer"]
    )
    session.commit()
    after_deadline = DEADLINE + timedelta(days=5)
    assert states(session, round_.id, after_deadline) == {
        "TU-A": ("late", 5),
        "TU-B": ("not_started", 0),
        "TU-C": ("late", 5),
    }
    assert states(session, round_.id, DEADLINE + timedelta(days=20))["TU-B"] == ("late", 6)
    with pytest.raises(ValidationError):
        reporting.extend_deadline(session, round_.id, b, DEADLINE, actor=world["actors"]["reviewer"])
    with pytest.raises(PermissionDeniedError):
        reporting.extend_deadline(session, round_.id, b, None, actor=world["actors"]["B"])
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "round.extend")).one()
    assert event.before == {"agency": "TU-B", "deadline": "2026-12-20"}
    assert event.after == {"agency": "TU-B", "deadline": "2027-01-03"}
