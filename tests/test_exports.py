"""Exports: the same filtered inventory in CSV, XLSX and JSON, escaped, described, audited."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import select

from registry.models import AuditEvent
from registry.services.dependencies import add_dependency
from registry.services.overlaps import scan_portfolio
from tests.conftest import OPERATOR


@pytest.fixture
def inventory(make_agency, make_capability, make_system, session):
    nghe_an = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    hue = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    platform = make_system(
        name="VNeID", description="Định danh điện tử", is_shared_platform=True, status="in_operation"
    )
    first = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Nghệ An",
        description='=HYPERLINK("http://evil") Văn bản đến, văn bản đi, hồ sơ công việc.',
        status="in_operation",
        scope_level="province",
        owner_agency_id=nghe_an.id,
        user_agency_ids=[hue.id, nghe_an.id],
        capability_ids=[docs.id],
        estimated_cost_vnd=1_200_000_000,
    )
    second = make_system(
        name="Hệ thống QLVB Thành ủy Huế",
        description="Văn bản đến, văn bản đi và hồ sơ công việc.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=hue.id,
        capability_ids=[docs.id],
    )
    add_dependency(session, first, actor=OPERATOR, target_code=platform.code, kind="authentication")
    scan_portfolio(session, min_score=0.3)
    session.commit()
    return {"platform": platform, "first": first, "second": second, "nghe_an": nghe_an}


def _csv(response) -> tuple[str, list[dict[str, str]]]:
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text[1:].splitlines(keepends=True)
    return lines[0], list(csv.DictReader(io.StringIO("".join(lines[1:]))))


def test_csv_export_follows_the_list_filters(client, inventory):
    response = client.get("/exports/systems.csv?level=province&sort=-cost")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    meta, rows = _csv(response)
    assert (
        meta.startswith("# Registry inventory; exported ") and "by admin" in meta and "level=province" in meta
    )
    assert [r["code"] for r in rows] == sorted([inventory["first"].code, inventory["second"].code])
    first = next(r for r in rows if r["code"] == inventory["first"].code)
    assert first["owner_agency"] == "TU-NAN" and first["user_agencies"] == "TU-HUE; TU-NAN"
    assert first["capabilities"] == "document_management" and first["estimated_cost_vnd"] == "1200000000"


def test_cells_that_look_like_formulas_are_escaped(client, inventory):
    _meta, rows = _csv(client.get("/exports/systems.csv"))
    first = next(r for r in rows if r["code"] == inventory["first"].code)
    assert first["description"].startswith("'=HYPERLINK")
    book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/systems.xlsx").get_data()))
    descriptions = [row[2] for row in book["Systems"].iter_rows(min_row=3, values_only=True)]
    assert any(d.startswith("'=HYPERLINK") for d in descriptions)
    assert not any(isinstance(d, str) and d.startswith("=") for d in descriptions)


def test_xlsx_has_the_related_sheets_a_frozen_header_and_filters(client, inventory):
    response = client.get("/exports/systems.xlsx")
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    assert book.sheetnames == ["Systems", "Dependencies", "Warnings", "Findings", "Decisions", "About"]
    systems = book["Systems"]
    assert systems.freeze_panes == "A3" and systems.auto_filter.ref.startswith("A2:")
    assert systems["A2"].value == "code" and systems.max_row == 5
    assert systems.column_dimensions["B"].width >= 40
    dependencies = list(book["Dependencies"].iter_rows(min_row=3, values_only=True))
    assert dependencies == [(inventory["first"].code, inventory["platform"].code, "authentication", None)]
    warnings = list(book["Warnings"].iter_rows(min_row=3, values_only=True))
    assert {(w[0], w[1]) for w in warnings} >= {
        tuple(sorted([inventory["first"].code, inventory["second"].code]))
    }
    assert any(row[1] == "R7" for row in book["Findings"].iter_rows(min_row=3, values_only=True))
    about = dict(book["About"].iter_rows(values_only=True))
    assert about["exported_by"] == "admin" and about["systems"] == 3
    assert "admin" in book.properties.creator


def test_xlsx_labels_its_columns_in_the_chosen_language_above_their_names(client, inventory):
    book = openpyxl.load_workbook(io.BytesIO(client.get("/exports/systems.xlsx?lang=en").get_data()))
    systems = book["Systems"]
    labels = {c.value: label.value for label, c in zip(systems[1], systems[2], strict=True)}
    assert labels["code"] == "Public code" and labels["estimated_cost_vnd"] == "Estimated cost (VND)"
    assert labels["created_at"] == "Added to the registry (UTC)" and systems["A1"].font.b
    assert all(label and label != name for name, label in labels.items()), labels
    for title in ("Dependencies", "Warnings", "Findings", "Decisions"):
        sheet = book[title]
        pairs = zip(sheet[1], sheet[2], strict=True)
        assert all(label.value and label.value != name.value for label, name in pairs), title
    vietnamese = openpyxl.load_workbook(io.BytesIO(client.get("/exports/systems.xlsx").get_data()))
    assert vietnamese["Systems"]["A1"].value == "Mã hệ thống" and vietnamese["Systems"]["A2"].value == "code"


def test_xlsx_writes_costs_as_numbers_and_times_as_date_cells(client, inventory):
    systems = openpyxl.load_workbook(io.BytesIO(client.get("/exports/systems.xlsx").get_data()))["Systems"]
    columns = [c.value for c in systems[2]]
    first = next(row for row in systems.iter_rows(min_row=3) if row[0].value == inventory["first"].code)
    cost = first[columns.index("estimated_cost_vnd")]
    assert cost.value == 1_200_000_000 and cost.number_format == "#,##0"
    created = first[columns.index("created_at")]
    assert isinstance(created.value, datetime) and created.is_date and created.value.microsecond == 0
    assert abs(created.value - inventory["first"].created_at.replace(tzinfo=None)) < timedelta(seconds=1)
    warnings = openpyxl.load_workbook(io.BytesIO(client.get("/exports/warnings.xlsx").get_data()))["Warnings"]
    score = warnings[3][[c.value for c in warnings[2]].index("score")]
    assert isinstance(score.value, float) and score.number_format == "0%"


def test_csv_and_json_times_are_iso_without_microseconds(client, inventory):
    _meta, rows = _csv(client.get("/exports/systems.csv"))
    body = json.loads(client.get("/exports/systems.json").get_data())
    for value in [r["created_at"] for r in rows] + [s["updated_at"] for s in body["systems"]]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", value), value


def test_json_export_holds_the_same_rows_with_metadata(client, inventory):
    body = json.loads(client.get("/exports/systems.json?status=in_operation").get_data())
    assert body["meta"]["count"] == 3 and body["meta"]["filters"] == {"status": ["in_operation"]}
    assert body["meta"]["exported_by"] == "admin" and body["meta"]["columns"][0] == "code"
    assert [s["code"] for s in body["systems"]] == sorted(s["code"] for s in body["systems"])
    assert {s["code"] for s in body["systems"]} == {
        inventory[k].code for k in ("platform", "first", "second")
    }


def test_submitters_export_only_their_own_agency(client_for, inventory):
    submitter = client_for("submitter", agency_id=inventory["nghe_an"].id)
    _meta, rows = _csv(submitter.get("/exports/systems.csv"))
    assert [r["code"] for r in rows] == [inventory["first"].code]


def test_an_export_is_an_audit_event(client, inventory, session):
    client.get("/exports/systems.json?level=province")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.inventory"))
    assert event.actor_label == "admin"
    assert event.after == {"format": "json", "filters": {"level": "province"}, "systems": 2}


def test_unknown_formats_are_not_found(client):
    assert client.get("/exports/systems.pdf").status_code == 404


def test_the_command_line_exports_with_a_progress_bar(app, inventory, tmp_path):
    target = tmp_path / "inventory.xlsx"
    result = app.test_cli_runner().invoke(
        args=["export", "systems", "--format", "xlsx", "--output", str(target), "--filter", "level=province"]
    )
    assert result.exit_code == 0, result.output
    assert "2 systems written" in result.output
    assert openpyxl.load_workbook(target)["Systems"].max_row == 4  # labels, names, two systems
    csv_target = tmp_path / "inventory.csv"
    app.test_cli_runner().invoke(args=["export", "systems", "--output", str(csv_target)])
    assert csv_target.read_text(encoding="utf-8-sig").splitlines()[0].startswith("# Registry inventory")
