import re
import threading
import unicodedata
from datetime import date

import pytest
from flask_babel import refresh
from sqlmodel import Session, select

from registry.db import get_engine
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.models import InformationSystem
from registry.services.codes import reserve_codes
from registry.services.systems import (
    SystemInput,
    create_system,
    get_system,
    update_system,
    validate_system_input,
)
from tests.conftest import OPERATOR, proposal_fields


def test_registers_a_draft_with_a_public_code(make_system):
    system = make_system(registered_year=2024)
    assert re.fullmatch(r"HTTT-2024-\d{6}", system.code)
    assert system.code == "HTTT-2024-000001"
    assert system.version == 1


def test_codes_count_per_year(make_system, session):
    make_system(registered_year=2023)
    make_system(registered_year=2023)
    make_system(registered_year=2025)
    assert make_system(registered_year=2023).code == "HTTT-2023-000003"
    assert make_system(registered_year=2025).code == "HTTT-2025-000002"
    assert make_system(registered_year=2026).code == "HTTT-2026-000001"


def test_a_registration_that_lost_the_race_for_a_code_takes_the_next(make_system, session, monkeypatch):
    """Two registrations got the same code; the unique index refuses the second, which must
    retry with the next number. The retry once failed with a 500 under load: the savepoint's
    rollback had already taken the new row out of the session, and removing it again raised."""
    first = make_system(registered_year=2026, name="Hệ thống một")
    from registry.services import systems

    real_reserve = systems.reserve_codes
    calls = iter([[first.code]])  # the first attempt gets the code just taken, as a racer would
    monkeypatch.setattr(
        systems, "reserve_codes", lambda s, year, n: next(calls, None) or real_reserve(s, year, n)
    )
    second = make_system(registered_year=2026, name="Hệ thống hai", user_agency_ids=[first.owner_agency_id])
    assert second.code == "HTTT-2026-000002"
    assert session.scalar(select(InformationSystem).where(InformationSystem.code == second.code)) is not None


def test_concurrent_saves_never_share_a_code_nor_wait_for_each_other(app, make_system, session):
    """An import still writing (its transaction open) and a registration meanwhile: on
    PostgreSQL the registration gets a number of its own at once, and the import's rollback
    leaves a gap rather than a number handed out twice."""
    make_system(registered_year=2026)
    engine = get_engine(app)
    with Session(engine) as importing, Session(engine) as registering:
        held = reserve_codes(importing, 2026, 3)
        assert held == ["HTTT-2026-000002", "HTTT-2026-000003", "HTTT-2026-000004"]
        taken = reserve_codes(registering, 2026, 1)
        importing.rollback()
    if engine.dialect.name == "postgresql":
        assert taken == ["HTTT-2026-000005"]  # reserved and committed: no wait, no collision
        assert reserve_codes(session, 2026, 1) == ["HTTT-2026-000006"]  # 2–4 stay a gap
    else:  # SQLite's writers take turns: the number is read in the save's own transaction
        assert taken == ["HTTT-2026-000002"]
    # Numbers a file brings along are never handed out again.
    assert reserve_codes(session, 2026, 2, above=41) == ["HTTT-2026-000042", "HTTT-2026-000043"]


def test_text_is_stored_nfc_and_trimmed_and_searchable(make_system):
    system = make_system(name=unicodedata.normalize("NFD", "  Sổ tay   đảng viên  "))
    assert system.name == "Sổ tay đảng viên"
    assert "so tay dang vien" in system.search_text
    assert system.name_key == "so tay dang vien"


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {k: [str(m) for m in v] for k, v in exc.value.errors.items()}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"description": ""}, "description"),
        ({"status": "live"}, "status"),
        ({"scope_level": None}, "scope_level"),
        ({"scope_level": "district"}, "scope_level"),
        ({"hosting": "basement"}, "hosting"),
        ({"security_level": 6}, "security_level"),
        ({"estimated_cost_vnd": -1}, "estimated_cost_vnd"),
        ({"target_users": 10**10}, "target_users"),
        ({"operating_rules_date": date(2024, 1, 1)}, "operating_rules_ref"),
        ({"operating_rules_ref": "QC 1", "operating_rules_date": date(2999, 1, 1)}, "operating_rules_date"),
        ({"owner_agency_id": None}, "owner_agency_id"),
        ({"owner_agency_id": 999_999}, "owner_agency_id"),
        ({"operator_agency_id": 999_999}, "operator_agency_id"),
        ({"user_agency_ids": [999_999]}, "user_agency_ids"),
        ({"capability_ids": [999_999]}, "capability_ids"),
        ({"data_domain_ids": [999_999]}, "data_domain_ids"),
        ({"instance_of_id": 999_999}, "instance_of_id"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(make_system, session, overrides, field):
    with pytest.raises(ValidationError) as exc:
        make_system(**overrides)
    assert field in exc.value.errors
    assert session.scalar(select(InformationSystem.id)) is None


def test_messages_are_vietnamese_by_default_and_english_on_request(app, session, make_agency):
    owner = make_agency()
    data = SystemInput.of(name="", description="x", scope_level="central", owner_agency_id=owner.id)
    with app.test_request_context("/"), pytest.raises(ValidationError) as exc:
        validate_system_input(session, data)
    assert _errors(exc)["name"] == ["Hãy nhập tên hệ thống."]
    with app.test_request_context("/?lang=en"), pytest.raises(ValidationError) as exc:
        refresh()  # the session fixture's app context cached the first request's locale
        validate_system_input(session, data)
    assert _errors(exc)["name"] == ["Enter the name of the system."]


def test_a_proposal_needs_every_governance_field(make_system):
    with pytest.raises(ValidationError) as exc:
        make_system(status="submitted")
    assert set(exc.value.errors) >= {
        "operator_agency_id",
        "user_agency_ids",
        "legal_basis",
        "mandate",
        "usage_orientation",
        "security_level",
        "target_users",
        "capability_ids",
    }


def test_a_complete_proposal_is_accepted(make_system, make_agency, make_capability):
    system = make_system(status="submitted", **proposal_fields(make_agency, make_capability()))
    assert system.status == "submitted"
    assert [a.name for a in system.user_agencies] == ["Tỉnh ủy Nghệ An"]


def test_a_system_in_operation_is_recorded_with_its_gaps(make_system):
    system = make_system(status="in_operation")
    assert system.operator_agency_id is None and system.operating_rules_ref is None


def test_only_a_shared_platform_can_be_deployed(make_system):
    ordinary = make_system(name="Phần mềm riêng")
    with pytest.raises(ValidationError) as exc:
        make_system(instance_of_id=ordinary.id)
    assert "instance_of_id" in exc.value.errors
    platform = make_system(name="Nền tảng dùng chung", is_shared_platform=True)
    deployment = make_system(name="Triển khai tại tỉnh", instance_of_id=platform.id)
    assert deployment.instance_of.code == platform.code


def test_update_bumps_the_version(make_system, session):
    system = make_system()
    data = SystemInput.from_system(system)
    data.name = "Tên mới"
    update_system(session, system, data, actor=OPERATOR, expected_version=1)
    assert (system.name, system.version) == ("Tên mới", 2)
    assert get_system(session, system.code).name == "Tên mới"


def test_a_stale_edit_is_refused_and_changes_nothing(make_system, session):
    system = make_system()
    first = SystemInput.from_system(system)
    first.name = "Sửa lần một"
    update_system(session, system, first, actor=OPERATOR, expected_version=1)
    stale = SystemInput.from_system(system)
    stale.name = "Sửa từ bản cũ"
    with pytest.raises(StaleEditError) as exc:
        update_system(session, system, stale, actor=OPERATOR, expected_version=1)
    assert exc.value.current_version == 2
    session.expire_all()
    assert get_system(session, system.code).name == "Sửa lần một"


def test_concurrent_saves_of_the_same_version_let_exactly_one_win(app, make_system):
    """Both editors pass the version check; the UPDATE's version clause stops the second."""
    system = make_system()
    engine = get_engine(app)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def edit(name: str) -> None:
        with app.app_context(), Session(engine, expire_on_commit=False) as own:
            mine = get_system(own, system.code)
            data = SystemInput.from_system(mine)
            data.name = name
            barrier.wait()
            try:
                update_system(own, mine, data, actor=OPERATOR, expected_version=1)
                own.commit()
                outcomes.append("saved")
            except StaleEditError:
                outcomes.append("stale")

    threads = [threading.Thread(target=edit, args=(f"Bản {i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["saved", "stale"]
    with Session(engine) as fresh:
        assert get_system(fresh, system.code).version == 2


def test_invalid_update_leaves_the_record_as_it_was(make_system, session):
    system = make_system()
    data = SystemInput.from_system(system)
    data.name = ""
    with pytest.raises(ValidationError):
        update_system(session, system, data, actor=OPERATOR, expected_version=1)
    session.rollback()
    session.expire_all()
    assert get_system(session, system.code).name == "Hệ thống quản lý văn bản và điều hành"


def test_unknown_code_is_not_found(session):
    with pytest.raises(NotFoundError):
        get_system(session, "HTTT-2020-999999")


def test_an_edit_of_a_system_with_relations_bumps_the_version_once(make_system, make_capability, session):
    capability = make_capability(code="records", name="Hồ sơ")
    system = make_system(capability_ids=[capability.id])
    data = SystemInput.from_system(system)
    data.name = "Tên mới"
    update_system(session, system, data, actor=OPERATOR, expected_version=1)
    assert system.version == 2


def test_saving_without_a_change_keeps_the_version(make_system, session):
    system = make_system()
    update_system(session, system, SystemInput.from_system(system), actor=OPERATOR, expected_version=1)
    session.expire_all()
    assert session.get(InformationSystem, system.id).version == 1


def test_a_registration_rolled_back_leaves_nothing_on_every_database(app, session, make_agency):
    """The code is allocated in a savepoint; releasing it must not commit the new row (SQLite's
    driver would, if the savepoint opened the transaction)."""
    owner = make_agency()
    system = create_system(
        session,
        SystemInput.of(name="Tạm", description="Chưa lưu", scope_level="central", owner_agency_id=owner.id),
        actor=OPERATOR,
    )
    code = system.code
    session.rollback()
    with Session(get_engine(app)) as fresh:
        assert fresh.scalar(select(InformationSystem).where(InformationSystem.code == code)) is None
