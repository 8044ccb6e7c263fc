"""Rows written as tuples straight to the driver read back as the ORM would have written them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from registry.bulk import converter, driver_value, insert_tuples, json_text
from registry.models import Finding, InformationSystem
from registry.services.systems import search_text_of

SYSTEMS = InformationSystem.__table__
FINDINGS = Finding.__table__


def test_tuples_read_back_with_their_types(session, make_system):
    owner = make_system(name="Nền tảng").owner_agency_id
    moment = datetime(2026, 11, 30, 7, 30, 15, 123456, tzinfo=UTC)
    stamp = driver_value(session, SYSTEMS.c.created_at, moment)
    day = converter(session, SYSTEMS.c.operating_rules_date)
    columns = (
        "code", "name", "description", "status", "scope_level", "is_shared_platform", "owner_agency_id",
        "operating_rules_ref", "operating_rules_date", "estimated_cost_vnd", "search_text", "name_key",
        "version", "created_at", "updated_at",
    )  # fmt: skip
    rows = [
        (
            f"HTTT-2026-90000{n}",
            f"Hệ thống “{n}”, có dấu phẩy; và\ttab",
            "Mô tả\nnhiều dòng, với \\ và \" và '",
            "in_operation",
            "province",
            n == 1,
            owner,
            "QĐ 12" if n else None,
            day(date(2025, 3, 31)) if n else day(None),
            12_000_000_000 if n else None,
            search_text_of(f"HTTT-2026-90000{n}", "Hệ thống", "Mô tả", None),
            "he thong",
            1,
            stamp,
            stamp,
        )
        for n in range(2)
    ]
    assert insert_tuples(session, SYSTEMS, columns, rows) == 2
    session.commit()
    stored = session.scalars(
        select(InformationSystem).where(InformationSystem.code.like("HTTT-2026-90000%")).order_by("code")
    ).all()
    assert [s.name for s in stored] == [row[1] for row in rows]
    assert stored[0].description == rows[0][2]
    assert [s.is_shared_platform for s in stored] == [False, True]
    assert [s.operating_rules_date for s in stored] == [None, date(2025, 3, 31)]
    assert [s.estimated_cost_vnd for s in stored] == [None, 12_000_000_000]
    assert stored[1].created_at.replace(tzinfo=UTC) == moment


def test_json_text_reads_back_as_the_value(session, make_system):
    system = make_system(name="Một cửa")
    details = {"missing": ["usage_orientation"], "note": '“ngoặc” \\ " ;,\t', "n": None}
    now = driver_value(session, FINDINGS.c.detected_at, datetime.now(UTC))
    columns = ("system_id", "rule_code", "severity", "details", "detected_at")
    insert_tuples(session, FINDINGS, columns, [(system.id, "R77", "low", json_text(details), now)])
    session.commit()
    found = session.scalar(select(Finding).where(Finding.rule_code == "R77"))
    assert found.details == details
