"""Imports: read, validate and preview every row, then commit all or nothing, idempotently."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import delete, func, select

from registry.auth.actor import Actor
from registry.exports import inventory
from registry.exports.formats import ExportMeta, csv_chunks, json_chunks, write_xlsx
from registry.filters import SystemFilter
from registry.interchange.source import UnreadableFileError
from registry.models import (
    AuditEvent,
    Dependency,
    DuplicateWarning,
    Finding,
    InformationSystem,
    SystemCapabilityLink,
    SystemDataDomainLink,
    SystemUserAgencyLink,
)
from registry.services import audit
from registry.services.imports import (
    Action,
    ImportRefusedError,
    commit_import,
    plan_import,
)
from tests.conftest import OPERATOR

BOOKKEEPING = ("version", "created_at", "updated_at")


def _committed(session, *args, **kwargs):
    """Commit an import as the command line does: the operation flushes, the command commits."""
    result = commit_import(session, *args, **kwargs)
    session.commit()
    return result


@pytest.fixture(autouse=True)
def english(session):
    """Problems name their place as "line 12"; in English here so the assertions read plainly."""
    with force_locale("en"):
        yield


@pytest.fixture
def portfolio(make_agency, make_capability, make_data_domain, make_system, session):
    nghe_an = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    hue = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    meetings = make_capability(code="video_conference", name="Hội nghị truyền hình")
    records = make_data_domain(code="records", name="Hồ sơ")
    platform = make_system(
        name="Nền tảng quản lý văn bản dùng chung",
        description="Nền tảng dùng chung cho các cơ quan đảng.",
        is_shared_platform=True,
        status="in_operation",
        capability_ids=[docs.id],
    )
    deployment = make_system(
        name="Quản lý văn bản Tỉnh ủy Nghệ An",
        description='=HYPERLINK("http://evil") Văn bản đến, văn bản đi, hồ sơ công việc.',
        status="in_operation",
        scope_level="province",
        owner_agency_id=nghe_an.id,
        operator_agency_id=hue.id,
        user_agency_ids=[hue.id, nghe_an.id],
        capability_ids=[docs.id, meetings.id],
        data_domain_ids=[records.id],
        instance_of_id=platform.id,
        estimated_cost_vnd=1_200_000_000,
        operating_rules_ref="Quyết định 12-QĐ/TU",
        operating_rules_date=date(2024, 5, 2),
        security_level=3,
    )
    draft = make_system(
        name="Giao ban trực tuyến Thành ủy Huế",
        description="Họp trực tuyến giữa Thành ủy và các phường.",
        scope_level="province",
        owner_agency_id=hue.id,
        capability_ids=[meetings.id],
    )
    return {"platform": platform, "deployment": deployment, "draft": draft, "hue": hue, "nghe_an": nghe_an}


def _meta() -> ExportMeta:
    return ExportMeta(exported_at="2026-11-30T00:00:00+00:00", exported_by="test", filters={}, count=0)


def _rows(session) -> list[dict[str, Any]]:
    return list(inventory.rows(session, inventory.ExportScope(SystemFilter())))


def export_as(session, fmt: str) -> bytes:
    rows = _rows(session)
    if fmt == "csv":
        return b"".join(csv_chunks(_meta(), rows))
    if fmt == "json":
        return b"".join(json_chunks(_meta(), rows))
    with write_xlsx(_meta(), rows, []) as output:
        return output.read()


def assert_same_content(after: list[dict[str, Any]], before: list[dict[str, Any]]) -> None:
    """Row by row, the columns that differ (bookkeeping aside): empty when the content is the same."""
    assert len(after) == len(before)
    differences = [
        {k: (b[k], a[k]) for k in b if k not in BOOKKEEPING and a[k] != b[k]}
        for a, b in zip(after, before, strict=True)
    ]
    assert differences == [{}] * len(before)


def empty_portfolio(session) -> None:
    """Remove every system (the reference data, agencies and taxonomies, stays)."""
    for model in (
        Finding,
        DuplicateWarning,
        Dependency,
        SystemUserAgencyLink,
        SystemCapabilityLink,
        SystemDataDomainLink,
    ):
        session.execute(delete(model))
    session.execute(
        InformationSystem.__table__.update().values(instance_of_id=None)  # type: ignore[attr-defined]
    )
    session.execute(delete(InformationSystem))
    session.commit()


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_export_import_into_an_empty_registry_and_export_again_gives_the_same_content(
    session, portfolio, fmt
):
    before = _rows(session)
    data = export_as(session, fmt)
    empty_portfolio(session)

    plan = plan_import(session, OPERATOR, f"inventory.{fmt}", data)
    assert plan.ok, plan.problems()
    assert plan.counts[Action.CREATE] == 3
    result = _committed(session, OPERATOR, f"inventory.{fmt}", data)
    assert result.created == 3

    assert_same_content(_rows(session), before)
    assert audit.verify(session).ok


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_an_exported_workbook_is_read_by_its_column_names_under_the_labels(session, portfolio, locale):
    with force_locale(locale):
        data = export_as(session, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Systems"]
    assert sheet["A2"].value == "code" and sheet["A1"].value not in (None, "code")
    assert isinstance(sheet.cell(3, [c.value for c in sheet[2]].index("created_at") + 1).value, date)
    plan = plan_import(session, OPERATOR, "inventory.xlsx", data)
    assert plan.ok, plan.problems()
    assert plan.counts == {Action.UNCHANGED: 3}
    assert plan.rows[0].location.endswith(" 3")  # the first system comes after both header rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_importing_the_same_file_again_changes_nothing(session, portfolio, fmt):
    data = export_as(session, fmt)
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    plan = plan_import(session, OPERATOR, f"inventory.{fmt}", data)
    assert plan.ok, plan.problems()
    assert plan.counts == {Action.UNCHANGED: 3}
    assert not plan.writes
    _committed(session, OPERATOR, f"inventory.{fmt}", data)
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == 3
    # Only the import's own summary event is added.
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events + 1


def test_a_hand_made_template_without_codes_is_idempotent_too(session, portfolio):
    text = "name,description,owner_agency,scope_level,capabilities\r\n"
    text += (
        "Cổng thông tin Thành ủy Huế,Tin tức và văn bản của Thành ủy.,TU-HUE,province,document_management\r\n"
    )
    data = text.encode()
    first = _committed(session, OPERATOR, "list.csv", data)
    assert first.created == 1
    second = plan_import(session, OPERATOR, "list.csv", data)
    assert second.counts == {Action.UNCHANGED: 1}
    system = session.scalar(select(InformationSystem).where(InformationSystem.code == first.codes[0]))
    assert system.external_id == "name:TU-HUE/cong thong tin thanh uy hue"
    assert system.status == "draft"


def test_changed_rows_are_updated_through_the_edit_service(session, portfolio):
    rows = _rows(session)
    target = next(r for r in rows if r["code"] == portfolio["draft"].code)
    data = (
        "code,name,target_users\r\n" + f"{target['code']},Giao ban trực tuyến Thành ủy Huế (mới),1.500\r\n"
    ).encode()
    plan = plan_import(session, OPERATOR, "changes.csv", data)
    assert [(r.action, r.changed) for r in plan.rows] == [(Action.UPDATE, ["name", "target_users"])]
    _committed(session, OPERATOR, "changes.csv", data)
    session.expire_all()
    system = session.get(InformationSystem, portfolio["draft"].id)
    assert system.name.endswith("(mới)") and system.target_users == 1500 and system.version == 2
    # Columns the file does not have are left as they were.
    assert system.description == "Họp trực tuyến giữa Thành ủy và các phường."


def _big_csv(count: int, bad_at: int | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["external_id", "name", "description", "owner_agency", "scope_level", "estimated_cost_vnd"]
    )
    for i in range(1, count + 1):
        cost = "many" if i == bad_at else str(i * 1000)
        writer.writerow([f"ext-{i}", f"Hệ thống số {i}", f"Mô tả hệ thống {i}.", "TU-HUE", "province", cost])
    return buffer.getvalue().encode()


def test_one_bad_row_of_ten_thousand_writes_nothing_and_is_reported_with_line_and_field(session, portfolio):
    data = _big_csv(10_000, bad_at=9_999)
    count = session.scalar(select(func.count()).select_from(InformationSystem))
    events = session.scalar(select(func.count()).select_from(AuditEvent))
    with pytest.raises(ImportRefusedError) as refused:
        _committed(session, OPERATOR, "big.csv", data)
    problems = refused.value.plan.problems()
    assert [(where, column) for where, column, _message in problems] == [("line 10000", "estimated_cost_vnd")]
    assert "many" in str(problems[0][2])
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == count
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_ten_thousand_good_rows_are_created_in_one_go(session, portfolio):
    result = _committed(session, OPERATOR, "big.csv", _big_csv(10_000))
    assert result.created == 10_000
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == 10_003
    assert len(set(result.codes)) == 10_000
    assert audit.verify(session).ok


def test_every_bad_row_is_reported(session, portfolio, make_user):
    text = (
        "name,description,owner_agency,scope_level,status,capabilities,instance_of\r\n"
        "A,Mô tả,NOWHERE,province,,,\r\n"
        ",Không tên,TU-HUE,province,,,\r\n"
        "C,Mô tả,TU-HUE,galaxy,,unknown_cap,\r\n"
        f"D,Mô tả,TU-HUE,province,,,{portfolio['draft'].code}\r\n"
        "E,Mô tả,TU-HUE,province,approved,,\r\n"
    )
    plan = plan_import(session, Actor.of(make_user("admin")), "bad.csv", text.encode())
    found = {(where, column) for where, column, _m in plan.problems()}
    assert ("line 2", "owner_agency") in found
    assert ("line 3", "name") in found
    assert ("line 4", "scope_level") in found and ("line 4", "capabilities") in found
    assert ("line 5", "instance_of") in found
    assert ("line 6", "status") in found
    assert not plan.ok


def test_formula_cells_in_a_workbook_are_refused_not_evaluated(session, portfolio):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["name", "description", "owner_agency", "scope_level", "target_users"])
    sheet.append(["Hệ thống", "Mô tả", "TU-HUE", "province", "=1+1"])
    buffer = io.BytesIO()
    book.save(buffer)
    plan = plan_import(session, OPERATOR, "formula.xlsx", buffer.getvalue())
    assert [(w, c) for w, c, _m in plan.problems()] == [("row 2", "target_users")]


def test_formula_like_text_is_kept_as_text(session, portfolio):
    text = "name,description,owner_agency,scope_level\r\n'=Hệ thống,@SUM(A1) mô tả,TU-HUE,province\r\n"
    result = _committed(session, OPERATOR, "text.csv", text.encode())
    system = session.scalar(select(InformationSystem).where(InformationSystem.code == result.codes[0]))
    assert system.name == "=Hệ thống" and system.description == "@SUM(A1) mô tả"


def test_non_utf8_csv_is_detected_and_explained(session, portfolio):
    text = "name,description,owner_agency,scope_level\r\nQuản lý,Mô tả,TU-HUE,province\r\n"
    with pytest.raises(UnreadableFileError) as unreadable:
        plan_import(session, OPERATOR, "cp.csv", text.encode("cp1258", errors="replace"))
    assert "UTF-8" in str(unreadable.value.message) and "line 2" in str(unreadable.value.message)


def test_utf16_and_semicolon_separated_csv_from_excel_are_read(session, portfolio):
    text = "name;description;owner_agency;scope_level\r\nQuản lý;Mô tả;TU-HUE;province\r\n"
    plan = plan_import(
        session, OPERATOR, "excel.csv", "\ufeff".encode("utf-16-le")[:0] + text.encode("utf-16")
    )
    assert plan.ok and plan.counts == {Action.CREATE: 1}


def test_too_many_rows_and_unknown_columns_are_refused(session, portfolio):
    with pytest.raises(UnreadableFileError):
        plan_import(session, OPERATOR, "big.csv", _big_csv(11), max_records=10)
    plan = plan_import(session, OPERATOR, "odd.csv", b"name,colour\r\nA,red\r\n")
    assert [(c, str(m)) for _w, c, m in plan.file_problems][0][0] == "colour"
    with pytest.raises(UnreadableFileError):
        plan_import(session, OPERATOR, "odd.json", json.dumps({"nope": 1}).encode())


def test_the_same_system_twice_in_a_file_is_refused(session, portfolio):
    text = (
        "external_id,name,description,owner_agency,scope_level\r\n"
        "x1,A,B,TU-HUE,province\r\n"
        "x1,C,D,TU-HUE,province\r\n"
    )
    plan = plan_import(session, OPERATOR, "twice.csv", text.encode())
    assert [r.action for r in plan.rows] == [Action.CREATE, Action.REFUSED]
    assert "line 2" in str(plan.rows[1].problems[0][1])


def test_a_deployment_may_name_a_platform_created_by_the_same_file(session, portfolio):
    text = (
        "code,name,description,owner_agency,scope_level,is_shared_platform,instance_of,status\r\n"
        "HTTT-2026-900001,Triển khai,Triển khai,TU-HUE,province,false,HTTT-2026-900002,in_operation\r\n"
        "HTTT-2026-900002,Nền tảng mới,Nền tảng,TU-HUE,central,true,,in_operation\r\n"
    )
    result = _committed(session, OPERATOR, "platforms.csv", text.encode())
    assert sorted(result.codes) == ["HTTT-2026-900001", "HTTT-2026-900002"]
    deployment = session.scalar(select(InformationSystem).where(InformationSystem.code == "HTTT-2026-900001"))
    assert deployment.instance_of.code == "HTTT-2026-900002"


def test_the_command_line_previews_then_commits(app, session, portfolio, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes(
        "name,description,owner_agency,scope_level\r\nCổng Huế,Tin tức.,TU-HUE,province\r\n".encode()
    )
    runner = app.test_cli_runner()
    preview = runner.invoke(args=["import", "systems", str(path)])
    assert preview.exit_code == 0, preview.output
    assert "1 to create" in preview.output and "Preview only" in preview.output
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == 3
    done = runner.invoke(args=["import", "systems", str(path), "--commit"])
    assert done.exit_code == 0, done.output
    assert "Imported: 1 created" in done.output
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == 4


def test_the_command_line_lists_problems_and_fails(app, portfolio, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"name,description,owner_agency,scope_level\r\nA,B,NOWHERE,province\r\n")
    result = app.test_cli_runner().invoke(args=["import", "systems", str(path), "--commit"])
    assert result.exit_code == 1
    assert "line 2: owner_agency" in result.output and "nothing was imported" in result.output


def test_a_file_over_the_size_limit_is_refused_before_reading(session, portfolio, monkeypatch):
    from registry.interchange import readers

    monkeypatch.setattr(readers, "MAX_BYTES", 100)
    with pytest.raises(UnreadableFileError):
        plan_import(session, OPERATOR, "big.csv", _big_csv(10))


def test_each_imported_system_is_audited_like_a_registration(session, portfolio):
    from registry.services.systems import system_snapshot

    data = export_as(session, "csv")
    empty_portfolio(session)
    _committed(session, OPERATOR, "inventory.csv", data)
    deployment = session.scalar(
        select(InformationSystem).where(InformationSystem.code == portfolio["deployment"].code)
    )
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.action == "system.create", AuditEvent.object_id == deployment.code)
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )
    expected = {"code": deployment.code, "external_id": None, **system_snapshot(session, deployment)}
    assert event.after == json.loads(json.dumps(expected, default=str))
    assert event.system_id == deployment.id


def test_imported_systems_are_found_by_the_search_box(session, portfolio):
    from registry.filters import SystemFilter, filter_conditions

    result = _committed(session, OPERATOR, "big.csv", _big_csv(50))
    found = session.scalars(
        select(InformationSystem.code).where(*filter_conditions(session, SystemFilter(q="hệ thống số")))
    ).all()
    assert sorted(found) == sorted(result.codes)
    # Later saves keep the index up to date too: the per-row trigger is back in place.
    if session.get_bind().dialect.name == "sqlite":
        from sqlalchemy import text

        triggers = (
            session.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars().all()
        )
        assert "system_search_insert" in triggers


def _export_ecosystem(session, fmt: str) -> bytes:
    from registry.exports import ecosystem

    rows = _rows(session)
    return b"".join(
        ecosystem.FORMATS[fmt].writer(session, _meta(), iter(rows), base_url="https://registry.test/")
    )


def _edges(session) -> set[tuple[str, str, str]]:
    from sqlalchemy.orm import aliased

    source, target = aliased(InformationSystem), aliased(InformationSystem)
    query = (
        select(source.code, target.code, Dependency.kind)
        .join(source, source.id == Dependency.source_id)
        .join(target, target.id == Dependency.target_id)
    )
    return {tuple(row) for row in session.execute(query)}


@pytest.mark.parametrize("fmt", ["publiccode", "backstage"])
def test_ecosystem_exports_import_into_an_empty_registry_with_their_dependencies(session, portfolio, fmt):
    from registry.services.dependencies import add_dependency

    add_dependency(
        session,
        portfolio["draft"],
        actor=OPERATOR,
        target_code=portfolio["platform"].code,
        kind="consumes_api",
    )
    session.commit()
    before, edges = _rows(session), _edges(session)
    data = _export_ecosystem(session, fmt)
    empty_portfolio(session)

    plan = plan_import(session, OPERATOR, f"catalog.{fmt}.yaml", data, fmt=fmt)
    assert plan.ok, plan.problems()
    _committed(session, OPERATOR, "catalog.yaml", data, fmt=fmt)
    assert_same_content(_rows(session), before)
    assert _edges(session) == edges
    assert _export_ecosystem(session, fmt).split(b"\n", 3)[3] == data.split(b"\n", 3)[3]
    again = plan_import(session, OPERATOR, "catalog.yaml", data, fmt=fmt)
    assert again.counts == {Action.UNCHANGED: 3}


RIHA_SAMPLE = {
    "content": [
        {
            "hasUsedSystemTypeRelations": standard,
            "details": {
                "name": name,
                "uuid": f"uuid-{index}",
                "short_name": f"sys-{index}",
                "owner": {"code": owner, "name": f"Asutus {owner}"},
                "purpose": purpose,
                "topics": ["dokumendihaldus"],
                "meta": {"system_status": {"status": "IN_USE"}},
            },
        }
        for index, (name, owner, purpose, standard) in enumerate(
            [
                ("Amphora dokumendihaldustarkvara", "70000001", "Dokumendihaldus.", True),
                ("Amphora dokumendihaldustarkvara", "70000002", "-", True),
                ("Amphora dokumendihaldustarkvara", "70000003", "Dokumendiregister.", True),
                ("Delta dokumendihaldus", "70000004", "Asutuse dokumendihaldus.", False),
            ]
        )
    ]
}


def test_a_riha_export_imports_with_its_owners_and_its_standard_solution(session, portfolio, make_user):
    data = json.dumps(RIHA_SAMPLE).encode()
    admin = Actor.of(make_user("admin"))
    plan = plan_import(session, admin, "riha.json", data)
    assert plan.format == "riha" and plan.ok, plan.problems()
    assert {a.code for a in plan.new_agencies} >= {"EE-70000001", "EE-70000004"}
    result = _committed(session, admin, "riha.json", data)
    assert result.created == 5  # four systems and the product they share
    deployments = session.scalars(
        select(InformationSystem).where(
            InformationSystem.instance_of_id.is_not(None), InformationSystem.external_id.like("riha:%")
        )
    ).all()
    assert len(deployments) == 3
    assert {d.instance_of.external_id for d in deployments} == {
        "riha:standard:amphora dokumendihaldustarkvara"
    }
    assert plan_import(session, admin, "riha.json", data).counts == {Action.UNCHANGED: 5}


def test_a_submitter_cannot_bring_in_unknown_agencies(session, portfolio, make_user):
    submitter = Actor.of(make_user("submitter", agency_id=portfolio["hue"].id))
    plan = plan_import(session, submitter, "riha.json", json.dumps(RIHA_SAMPLE).encode())
    assert not plan.ok and not plan.new_agencies
    assert any(column == "agency" for _where, column, _message in plan.file_problems)


# --- a default managing agency for rows that name none -----------------------------------------

FOREIGN_PUBLICCODE = """\
publiccodeYmlVersion: "0.4"
name: Medusa
url: "https://example.com/italia/medusa.git"
developmentStatus: stable
description:
  en:
    shortDescription: A document manager
    longDescription: A document manager for public administrations, with registers and archives.
"""


def test_a_foreign_publiccode_yml_is_refused_without_a_default_owner(session, portfolio):
    plan = plan_import(session, OPERATOR, "publiccode.yml", FOREIGN_PUBLICCODE.encode())
    assert plan.counts == {Action.REFUSED: 1} and plan.defaulted == 0
    assert {column for _where, column, _message in plan.problems()} >= {"owner_agency", "scope_level"}


def test_a_foreign_publiccode_yml_takes_the_default_owner_and_its_level(session, portfolio):
    data = FOREIGN_PUBLICCODE.encode()
    plan = plan_import(session, OPERATOR, "publiccode.yml", data, default_owner="TU-HUE")
    assert plan.ok, plan.problems()
    assert plan.counts == {Action.CREATE: 1} and plan.defaulted == 1
    assert plan.default_owner_name == "Thành ủy Huế" and plan.rows[0].owner_agency == "TU-HUE"
    result = _committed(session, OPERATOR, "publiccode.yml", data, default_owner="TU-HUE")
    system = session.scalar(select(InformationSystem).where(InformationSystem.code == result.codes[0]))
    assert system.name == "Medusa" and system.owner_agency_id == portfolio["hue"].id
    assert system.scope_level == "province" and system.status == "in_operation"
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "import.commit"))
    assert event.after["default_owner"] == "TU-HUE" and event.after["defaulted"] == 1
    again = plan_import(session, OPERATOR, "publiccode.yml", data, default_owner="TU-HUE")
    assert again.counts == {Action.UNCHANGED: 1}


def test_rows_that_name_an_owner_keep_it(session, portfolio):
    data = (
        "name,description,owner_agency,scope_level\r\n"
        "Cổng Nghệ An,Tin tức của Tỉnh ủy.,TU-NAN,central\r\n"
        "Cổng Huế,Tin tức của Thành ủy.,,\r\n"
        "Thư viện Nghệ An,Sách và tài liệu.,TU-NAN,\r\n"
    ).encode()
    plan = plan_import(session, OPERATOR, "list.csv", data, default_owner="TU-HUE")
    assert [(row.owner_agency, row.took_default_owner) for row in plan.rows] == [
        ("TU-NAN", False),
        ("TU-HUE", True),
        ("TU-NAN", False),
    ]
    assert [row.action for row in plan.rows] == [Action.CREATE, Action.CREATE, Action.REFUSED]
    assert plan.rows[0].data.scope_level == "central" and plan.rows[1].data.scope_level == "province"
    assert [column for column, _message in plan.rows[2].problems] == ["scope_level"]


def test_a_registered_system_keeps_its_owner_when_the_row_names_none(session, portfolio):
    draft = portfolio["draft"]
    data = f"code,name\r\n{draft.code},{draft.name} (mới)\r\n".encode()
    plan = plan_import(session, OPERATOR, "changes.csv", data, default_owner="TU-NAN")
    assert [(r.action, r.changed) for r in plan.rows] == [(Action.UPDATE, ["name"])]
    assert plan.defaulted == 0


def test_an_unknown_default_owner_is_a_problem_of_the_file(session, portfolio):
    plan = plan_import(
        session, OPERATOR, "publiccode.yml", FOREIGN_PUBLICCODE.encode(), default_owner="NOWHERE"
    )
    assert not plan.ok and plan.defaulted == 0
    assert ("", "owner_agency") in {(where, column) for where, column, _message in plan.file_problems}
    assert any(
        "NOWHERE" in str(message) and "not in the registry" in str(message) for *_, message in plan.problems()
    )


def test_a_submitter_defaults_only_to_their_own_agency(session, portfolio, make_user):
    submitter = Actor.of(make_user("submitter", agency_id=portfolio["hue"].id))
    data = "name,description,status\r\nCổng Huế,Tin tức của Thành ủy.,draft\r\n".encode()
    own = plan_import(session, submitter, "list.csv", data, default_owner="TU-HUE")
    assert own.ok and own.defaulted == 1, own.problems()
    other = plan_import(session, submitter, "list.csv", data, default_owner="TU-NAN")
    assert not other.ok
    assert [str(message) for _where, _column, message in other.file_problems] == [
        "You can only register and edit systems of your own agency."
    ]


def test_the_default_owner_is_part_of_what_the_commit_promises(session, portfolio):
    data = "name,description,scope_level\r\nCổng thông tin,Tin tức.,province\r\n".encode()
    prints = {
        plan_import(session, OPERATOR, "list.csv", data, default_owner=owner).fingerprint()
        for owner in (None, "TU-HUE", "TU-NAN")
    }
    assert len(prints) == 3
    previewed = plan_import(session, OPERATOR, "list.csv", data, default_owner="TU-HUE").fingerprint()
    with pytest.raises(ImportRefusedError, match="registry changed"):
        commit_import(
            session, OPERATOR, "list.csv", data, default_owner="TU-NAN", expected_fingerprint=previewed
        )
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == 3


def test_the_command_line_takes_a_default_owner(app, session, portfolio, tmp_path):
    path = tmp_path / "publiccode.yml"
    path.write_text(FOREIGN_PUBLICCODE, encoding="utf-8")
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["import", "systems", str(path)])
    assert refused.exit_code == 1 and "owner_agency" in refused.output
    unknown = runner.invoke(args=["import", "systems", str(path), "--default-owner", "NOWHERE"])
    assert unknown.exit_code == 1 and "NOWHERE" in unknown.output
    done = runner.invoke(args=["import", "systems", str(path), "--default-owner", "TU-HUE", "--commit"])
    assert done.exit_code == 0, done.output
    assert "1 rows took the default managing agency TU-HUE" in done.output
    assert "Imported: 1 created" in done.output
    system = session.scalar(select(InformationSystem).where(InformationSystem.name == "Medusa"))
    assert system.owner_agency_id == portfolio["hue"].id


def test_the_plan_reads_back_only_the_systems_the_file_updates(session, make_system, monkeypatch):
    """A file that touches one system of many reads that one, not the whole inventory."""
    from registry.exports import inventory

    systems = [make_system(name=f"Hệ thống quản lý số {n}", description=f"Mô tả {n}") for n in range(12)]
    read: list[str] = []
    real_rows = inventory.rows

    def counted(*args, **kwargs):
        for row in real_rows(*args, **kwargs):
            read.append(row["code"])
            yield row

    monkeypatch.setattr(inventory, "rows", counted)
    target = systems[5]
    data = (
        "code,name,description,status,scope_level,owner_agency\r\n"
        f"{target.code},Hệ thống đã đổi tên,Mô tả mới,draft,central,OWNER\r\n"
    ).encode()
    plan = plan_import(session, OPERATOR, "one.csv", data)
    assert plan.ok, plan.problems()
    assert plan.counts[Action.UPDATE] == 1
    assert read == [target.code]
