"""The interchange record: text cells and JSON values become typed values, codes become ids."""

from __future__ import annotations

from datetime import date

import pytest

from registry.interchange.record import CodeBook, RecordProblems, column_of, typed


def test_text_cells_are_typed_as_spreadsheets_write_them():
    problems = RecordProblems()
    values = typed(
        {
            "name": "  Quản lý văn bản ",
            "is_shared_platform": "Có",
            "estimated_cost_vnd": "1.200.000.000",
            "target_users": "1,500",
            "security_level": 3,
            "operating_rules_date": "31/03/2025",
            "capabilities": "document_management; records, document_management",
            "data_domains": "",
            "ignored_column": "x",
        },
        problems,
    )
    assert not problems
    assert values == {
        "name": "  Quản lý văn bản ",
        "is_shared_platform": True,
        "estimated_cost_vnd": 1_200_000_000,
        "target_users": 1500,
        "security_level": 3,
        "operating_rules_date": date(2025, 3, 31),
        "capabilities": ["document_management", "records"],
        "data_domains": [],
    }


@pytest.mark.parametrize(
    ("column", "raw"),
    [
        ("estimated_cost_vnd", "1.5"),
        ("estimated_cost_vnd", "about 3 billion"),
        ("target_users", True),
        ("is_shared_platform", "maybe"),
        ("operating_rules_date", "2025-13-45"),
        ("capabilities", [1, 2]),
        ("name", {"nested": "object"}),
    ],
)
def test_unreadable_values_are_reported_not_guessed(column, raw):
    problems = RecordProblems()
    values = typed({column: raw}, problems)
    assert list(problems.by_column) == [column]
    assert values[column] in (None, [], False)


def test_codes_resolve_to_ids_and_unknown_codes_are_named(session, make_agency, make_capability, make_system):
    hue = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    platform = make_system(name="LGSP", description="Trục tích hợp", is_shared_platform=True)
    problems = RecordProblems()
    book = CodeBook(session, all_systems=False)
    data = book.to_input(
        typed(
            {
                "name": "Một cửa",
                "owner_agency": "TU-HUE",
                "operator_agency": "NOPE",
                "user_agencies": "TU-HUE; GONE",
                "capabilities": "document_management",
                "instance_of": platform.code,
            },
            problems,
        ),
        problems,
    )
    assert data.owner_agency_id == hue.id
    assert data.operator_agency_id is None
    assert data.user_agency_ids == [hue.id]
    assert data.capability_ids == [docs.id]
    assert data.instance_of_id == platform.id
    assert data.status == "draft"
    assert set(problems.by_column) == {"operator_agency", "user_agencies"}
    assert "GONE" in str(problems.by_column["user_agencies"][0])


def test_validation_errors_are_renamed_to_record_columns():
    problems = RecordProblems()
    problems.extend({"owner_agency_id": ["x"], "name": ["y"]})
    assert set(problems.by_column) == {"owner_agency", "name"}
    assert column_of("capability_ids") == "capabilities"
