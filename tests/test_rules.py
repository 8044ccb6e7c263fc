"""Each justification rule on its own: one system that fails it, one that passes."""

from __future__ import annotations

from datetime import date

import pytest

from registry.models import Agency, Capability, InformationSystem
from registry.rules import RULES, RuleContext, rule_by_code
from registry.rules.base import PlatformFacts

TODAY = date(2026, 11, 23)
DOCS = Capability(id=1, code="document_management", name="Quản lý văn bản")
VIDEO = Capability(id=2, code="videoconference", name="Hội nghị truyền hình")
USER = Agency(id=9, code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")


def system(**overrides) -> InformationSystem:
    """A proposal that passes every rule; each test breaks one thing."""
    values = {
        "id": 100,
        "code": "HTTT-2026-000100",
        "name": "Hệ thống",
        "description": "Mô tả",
        "status": "submitted",
        "scope_level": "province",
        "owner_agency_id": 9,
        "operator_agency_id": 9,
        "legal_basis": "Quyết định 204-QĐ/TW",
        "mandate": "Kế hoạch 02-KH/BCĐTW",
        "usage_orientation": "Dùng chung toàn tỉnh",
        "operating_rules_ref": "Quy chế 12-QC/TU",
        "security_level": 3,
        "target_users": 1000,
        "hosting": "provincial_dc",
    }
    values.update(overrides)
    capabilities = values.pop("capabilities", [VIDEO])
    users = values.pop("user_agencies", [USER])
    item = InformationSystem(**values)
    item.capabilities = capabilities
    item.user_agencies = users
    return item


def context(**overrides) -> RuleContext:
    values = {
        "today": TODAY,
        "central_platforms": [
            PlatformFacts(1, "HTTT-2020-000001", "Hệ thống điều hành tác nghiệp", frozenset({1}))
        ],
        "shared_platform_ids": frozenset({1, 2}),
        "depends_on": {100: frozenset({2})},
        "last_usage": {100: (date(2026, 9, 30), 900)},
        "capability_codes": {1: "document_management", 2: "videoconference"},
    }
    values.update(overrides)
    return RuleContext(**values)


def test_the_reference_system_passes_every_rule():
    deployed = system(status="in_operation")
    assert [r.code for r in RULES if r.evaluate(system(), context())] == []
    assert [r.code for r in RULES if r.evaluate(deployed, context())] == []


@pytest.mark.parametrize(
    ("code", "broken"),
    [
        ("R1", {"legal_basis": "  "}),
        ("R2", {"mandate": None}),
        ("R3", {"target_users": None}),
        ("R4", {"usage_orientation": None}),
        ("R5", {"operator_agency_id": None}),
        ("R5", {"user_agencies": []}),
        ("R6", {"capabilities": [DOCS]}),
        ("R8", {"hosting": "own_server_room"}),
        ("R10", {"security_level": None}),
    ],
)
def test_each_rule_flags_what_it_is_about(code, broken):
    failing = {r.code for r in RULES if r.evaluate(system(**broken), context())}
    assert failing == {code}


def test_r4_asks_deployed_systems_for_their_operating_rules_too():
    rule = rule_by_code("R4")
    assert rule.evaluate(system(operating_rules_ref=None), context()) is None  # a proposal has none yet
    violation = rule.evaluate(system(status="in_operation", operating_rules_ref=None), context())
    assert violation.details == {"missing": ["operating_rules_ref"]}


def test_r6_names_the_central_platform_and_the_shared_capabilities():
    violation = rule_by_code("R6").evaluate(system(capabilities=[DOCS, VIDEO]), context())
    assert violation.details == {
        "platform_code": "HTTT-2020-000001",
        "platform": "Hệ thống điều hành tác nghiệp",
        "capabilities": ["document_management"],
    }


def test_r6_names_the_platform_sharing_most_capabilities_and_the_first_listed_on_a_tie():
    maps = Capability(id=3, code="gis", name="Bản đồ số")
    platforms = [
        PlatformFacts(1, "HTTT-2020-000001", "Điều hành tác nghiệp", frozenset({1})),
        PlatformFacts(5, "HTTT-2020-000005", "Văn bản và bản đồ", frozenset({1, 3})),
        PlatformFacts(6, "HTTT-2020-000006", "Bản đồ và văn bản", frozenset({1, 3})),
        PlatformFacts(7, "HTTT-2020-000007", "Họp trực tuyến", frozenset({2})),
    ]
    codes = {1: "document_management", 2: "videoconference", 3: "gis"}
    rule = rule_by_code("R6")
    found = rule.evaluate(
        system(capabilities=[DOCS, maps]), context(central_platforms=platforms, capability_codes=codes)
    )
    assert found.details["platform_code"] == "HTTT-2020-000005"
    assert found.details["capabilities"] == ["document_management", "gis"]
    itself = system(id=5, capabilities=[DOCS, maps])  # a platform is never its own duplicate
    found = rule.evaluate(itself, context(central_platforms=platforms, capability_codes=codes))
    assert found.details["platform_code"] == "HTTT-2020-000006"
    unrelated = Capability(id=4, code="hr", name="Nhân sự")
    assert rule.evaluate(system(capabilities=[unrelated]), context(central_platforms=platforms)) is None


@pytest.mark.parametrize(
    "exempt", [{"scope_level": "central"}, {"instance_of_id": 1}, {"is_shared_platform": True}]
)
def test_r6_leaves_central_systems_deployments_and_platforms_alone(exempt):
    assert rule_by_code("R6").evaluate(system(capabilities=[DOCS], **exempt), context()) is None


def test_r7_flags_a_system_connected_to_no_shared_platform():
    rule = rule_by_code("R7")
    assert rule.evaluate(system(), context(depends_on={100: frozenset({55})})) is not None
    assert rule.evaluate(system(), context(depends_on={})) is not None
    assert rule.evaluate(system(instance_of_id=1), context(depends_on={})) is None


def test_r9_judges_only_systems_in_operation_by_recent_and_sufficient_use():
    rule = rule_by_code("R9")
    deployed = system(status="in_operation")
    assert rule.evaluate(system(), context(last_usage={})) is None  # proposals are not in use yet
    assert rule.evaluate(deployed, context(last_usage={})).details == {"last_report": None}
    stale = context(last_usage={100: (date(2025, 6, 30), 900)})
    assert rule.evaluate(deployed, stale).details == {"last_report": "2025-06-30"}
    low = context(last_usage={100: (date(2026, 9, 30), 40)})
    assert rule.evaluate(deployed, low).details == {"active_users": 40, "target_users": 1000}


def test_rules_do_not_judge_retired_or_rejected_systems():
    for status in ("retired", "rejected"):
        bare = system(status=status, legal_basis=None, mandate=None, security_level=None)
        assert [r.code for r in RULES if r.evaluate(bare, context())] == []


def test_every_rule_has_a_code_severity_and_a_message_in_both_languages(app):
    from flask_babel import force_locale

    with app.test_request_context():
        for rule in RULES:
            assert rule.code.startswith("R") and rule.severity in {"high", "medium", "low"}
            with force_locale("en"):
                english = str(rule.message)
            with force_locale("vi"):
                vietnamese = str(rule.message)
            assert english and vietnamese and english != vietnamese
    assert [r.code for r in RULES] == [f"R{i}" for i in range(1, 11)]
