"""publiccode.yml and Backstage exports: streamed, described, audited, and read back unchanged."""

from __future__ import annotations

from datetime import date

import pytest
import yaml
from sqlalchemy import select
from sqlmodel import Session

from registry.auth.actor import Actor
from registry.db import get_engine
from registry.exports import ecosystem, inventory
from registry.filters import SystemFilter
from registry.interchange.backstage import read_backstage
from registry.interchange.publiccode import read_publiccode
from registry.interchange.record import IDENTITY_COLUMNS, RecordProblems, typed
from registry.models import AuditEvent
from registry.services import exports
from registry.services.dependencies import add_dependency
from tests.conftest import OPERATOR

READERS = {"publiccode": read_publiccode, "backstage": read_backstage}
REQUIRED_PUBLICCODE_KEYS = (
    "publiccodeYmlVersion",
    "name",
    "url",
    "platforms",
    "categories",
    "developmentStatus",
    "softwareType",
)


@pytest.fixture
def portfolio(session, make_agency, make_capability, make_data_domain, make_system):
    """Platforms, deployments, dependencies and several agencies in a small tree."""
    office = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    post = make_agency(code="CBDTW", name="Cục Bưu điện Trung ương", parent_id=office.id)
    nghe_an = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    commune = make_agency(
        code="DU-HN", name="Đảng ủy xã Hưng Nguyên", level="commune", block="locality", parent_id=nghe_an.id
    )
    docs = make_capability(code="document_management", name="Quản lý văn bản và điều hành")
    sign = make_capability(code="e_signature", name="Ký số")
    domain = make_data_domain()
    platform = make_system(
        name="Hệ thống điều hành tác nghiệp",
        description="Nền tảng dùng chung quản lý văn bản, điều hành tác nghiệp của các cơ quan Đảng.",
        purpose="Thống nhất một hệ thống từ Trung ương đến cấp xã.",
        is_shared_platform=True,
        status="in_operation",
        owner_agency_id=office.id,
        operator_agency_id=post.id,
        user_agency_ids=[nghe_an.id, commune.id],
        capability_ids=[docs.id, sign.id],
        data_domain_ids=[domain.id],
        legal_basis="Quyết định 204-QĐ/TW",
        operating_rules_ref="Quy chế 01-QC/VPTW",
        operating_rules_date=date(2024, 5, 2),
        hosting="party_dc",
        security_level=4,
        estimated_cost_vnd=12_000_000_000,
        funding_source="Ngân sách Trung ương",
        target_users=25_000,
        active_users=18_500,
    )
    vneid = make_system(
        name="VNeID", description="Định danh điện tử", is_shared_platform=True, status="in_operation"
    )
    deployment = make_system(
        name="Cổng thông tin điều hành Tỉnh ủy Nghệ An",
        description="Triển khai nền tảng điều hành tác nghiệp cho Tỉnh ủy: văn bản đến, đi, hồ sơ.",
        status="in_operation",
        scope_level="province",
        owner_agency_id=nghe_an.id,
        instance_of_id=platform.id,
        user_agency_ids=[commune.id],
        capability_ids=[docs.id],
        overlap_justification="Triển khai của nền tảng dùng chung, không phải hệ thống mới.",
    )
    draft = make_system(
        name="Phần mềm quản lý văn bản xã Hưng Nguyên",
        description="key: value\n--- not a document\n# not a comment\n&anchor *alias !!python/object"
        "\u2028next: line\x85and\u2029more \"quoted\" 'text' \\ tab\there",
        scope_level="commune",
        owner_agency_id=commune.id,
    )
    retired = make_system(name="Hệ thống cũ", description="Đã thay thế.", status="retired")
    add_dependency(session, deployment, actor=OPERATOR, target_code=platform.code, kind="hosted_on")
    session.commit()
    add_dependency(session, deployment, actor=OPERATOR, target_code=vneid.code, kind="authentication")
    session.commit()
    add_dependency(session, platform, actor=OPERATOR, target_code=vneid.code, kind="authentication")
    session.commit()
    add_dependency(session, draft, actor=OPERATOR, target_code=deployment.code, kind="data_exchange")
    session.commit()
    return {
        "platform": platform,
        "vneid": vneid,
        "deployment": deployment,
        "draft": draft,
        "retired": retired,
        "nghe_an": nghe_an,
        "commune": commune,
    }


def _export(session: Session, fmt: str, flt: SystemFilter | None = None) -> tuple[bytes, list[dict]]:
    actor = Actor.operator("test")
    scope = exports.scope_for(actor, flt or SystemFilter())
    meta = exports.begin(session, actor, fmt, scope)
    rows = list(inventory.rows(session, scope))
    body = b"".join(
        ecosystem.FORMATS[fmt].writer(session, meta, iter(rows), base_url="https://registry.test/")
    )
    return body, rows


def _record(values: dict) -> dict:
    problems = RecordProblems()
    record = typed(values, problems)
    assert not problems.by_column
    return {**record, **{c: values.get(c) or None for c in IDENTITY_COLUMNS}}


@pytest.mark.parametrize("fmt", ["publiccode", "backstage"])
def test_export_then_read_gives_the_same_records(session, portfolio, fmt):
    body, rows = _export(session, fmt)
    source = READERS[fmt](body)
    assert source.problems == []
    assert [_record(r.values) for r in source.records] == [_record(row) for row in rows]
    read = {r.values["code"]: r.values for r in source.records}
    deployment = read[portfolio["deployment"].code]
    assert [(d["code"], d["kind"]) for d in deployment["depends_on"]] == sorted(
        [(portfolio["platform"].code, "hosted_on"), (portfolio["vneid"].code, "authentication")]
    )
    assert "depends_on" not in read[portfolio["retired"].code]


def test_backstage_export_maps_platforms_deployments_and_agencies(session, portfolio):
    body, _rows = _export(session, "backstage")
    entities = [e for e in yaml.safe_load_all(body) if e]
    by_name = {(e["kind"], e["metadata"]["name"]): e for e in entities}
    platform = by_name[("System", portfolio["platform"].code)]
    assert platform["spec"]["owner"] == "group:default/VPTW"
    deployment = by_name[("Component", portfolio["deployment"].code)]
    assert deployment["spec"] == {
        "type": "website",
        "lifecycle": "production",
        "owner": "group:default/TU-NAN",
        "system": portfolio["platform"].code,
        "dependsOn": sorted(
            [f"system:default/{portfolio['platform'].code}", f"system:default/{portfolio['vneid'].code}"]
        ),
    }
    assert deployment["metadata"]["annotations"]["httt-registry/code"] == portfolio["deployment"].code
    assert by_name[("Component", portfolio["draft"].code)]["spec"]["lifecycle"] == "experimental"
    assert by_name[("Component", portfolio["retired"].code)]["spec"]["lifecycle"] == "deprecated"
    nghe_an = by_name[("Group", "TU-NAN")]
    assert nghe_an["spec"] == {
        "type": "province",
        "profile": {"displayName": "Tỉnh ủy Nghệ An"},
        "children": ["DU-HN"],
    }
    assert by_name[("Group", "CBDTW")]["spec"]["parent"] == "VPTW"
    agencies = {a.code: a for a in read_backstage(body).agencies}
    assert agencies["DU-HN"].parent_code == "TU-NAN" and agencies["DU-HN"].level == "commune"
    assert agencies["TU-NAN"].block == "locality"


def test_publiccode_documents_carry_the_standard_keys(session, portfolio):
    body, _rows = _export(session, "publiccode")
    documents = {d["x-registry"]["code"]: d for d in yaml.safe_load_all(body) if d}
    for document in documents.values():
        for key in REQUIRED_PUBLICCODE_KEYS:
            assert document[key], key
        assert document["publiccodeYmlVersion"] == "0.4"
        description = document["description"]["vi"]
        assert 0 < len(description["shortDescription"]) <= 150
        assert 150 <= len(description["longDescription"]) <= 10_000
        assert description["features"]
        assert document["legal"]["license"]
        assert document["maintenance"]["type"] in {"internal", "contract", "community", "none"}
        if document["maintenance"]["type"] in {"internal", "community"}:
            assert document["maintenance"]["contacts"][0]["name"]
        assert document["localisation"]["availableLanguages"] == ["vi"]
    platform = documents[portfolio["platform"].code]
    assert platform["url"] == f"https://registry.test/systems/{portfolio['platform'].code}"
    assert platform["developmentStatus"] == "stable"
    assert platform["usedBy"] == ["Đảng ủy xã Hưng Nguyên", "Tỉnh ủy Nghệ An"]  # by code
    assert platform["maintenance"]["contacts"] == [{"name": "Cục Bưu điện Trung ương"}]
    assert platform["categories"] == ["document-management", "e-signature"]
    assert platform["dependsOn"] == {"proprietary": [{"name": "VNeID", "optional": False}]}
    assert platform["description"]["vi"]["features"] == ["Quản lý văn bản và điều hành", "Ký số"]
    assert documents[portfolio["retired"].code]["developmentStatus"] == "obsolete"
    assert documents[portfolio["retired"].code]["maintenance"] == {"type": "none"}
    assert documents[portfolio["draft"].code]["developmentStatus"] == "concept"


def test_yaml_holds_text_as_text_and_metadata_as_comments(session, portfolio):
    body, _rows = _export(session, "publiccode", SystemFilter(level="commune"))
    text = body.decode()
    assert text.startswith("# Registry inventory; exported ") and "level=commune" in text.splitlines()[0]
    events = list(yaml.parse(text))
    assert not [e for e in events if getattr(e, "tag", None) or getattr(e, "anchor", None)]
    (document,) = [d for d in yaml.safe_load_all(body) if d]
    assert document["x-registry"]["description"] == portfolio["draft"].description


def test_filters_cannot_break_out_of_the_header_comment(session, portfolio):
    sneaky = "x\u2028name: injected\x85---\n- list\rkind: Group"
    body, _rows = _export(session, "publiccode", SystemFilter(q=sneaky))
    assert [d for d in yaml.safe_load_all(body) if d] == []
    assert body.decode().count("\n# ") >= 4


def test_groups_stay_within_the_export_and_its_parents(session, portfolio):
    body, _rows = _export(session, "backstage", SystemFilter(level="commune"))
    groups = {e["metadata"]["name"]: e for e in yaml.safe_load_all(body) if e and e["kind"] == "Group"}
    assert set(groups) == {"DU-HN", "TU-NAN"}


def test_the_web_export_streams_yaml_and_is_audited(client, session, portfolio):
    response = client.get("/exports/systems.backstage?level=province")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/yaml")
    assert response.headers["Content-Disposition"].endswith('.catalog-info.yaml"')
    source = read_backstage(response.get_data())
    assert [r.values["code"] for r in source.records] == [portfolio["deployment"].code]
    assert "by admin" in response.get_data(as_text=True).splitlines()[0]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.inventory"))
    assert event.after == {"format": "backstage", "filters": {"level": "province"}, "systems": 1}
    response = client.get("/exports/systems.publiccode")
    assert response.headers["Content-Disposition"].endswith('.publiccode.yml"')
    assert len(read_publiccode(response.get_data()).records) == 5


@pytest.mark.parametrize("role", ["auditor", "reviewer", "admin"])
def test_every_reading_role_downloads_any_system(client_for, portfolio, role):
    client = client_for(role)
    code = portfolio["platform"].code
    response = client.get(f"/exports/systems/{code}.publiccode")
    assert response.status_code == 200
    (record,) = read_publiccode(response.get_data()).records
    assert record.values["code"] == code
    assert response.headers["Content-Disposition"] == f'attachment; filename="{code}.publiccode.yml"'
    assert client.get(f"/systems/{code}").text.count(f"/exports/systems/{code}.") == 2


def test_submitters_take_out_only_their_own_agency(client_for, portfolio):
    submitter = client_for("submitter", agency_id=portfolio["nghe_an"].id)
    source = read_publiccode(submitter.get("/exports/systems.publiccode").get_data())
    assert [r.values["code"] for r in source.records] == [portfolio["deployment"].code]
    own = portfolio["deployment"].code
    assert submitter.get(f"/exports/systems/{own}.backstage").status_code == 200
    other = portfolio["platform"].code
    assert submitter.get(f"/exports/systems/{other}.backstage").status_code == 403
    assert f"/exports/systems/{other}." not in submitter.get(f"/systems/{other}").text
    assert f"/exports/systems/{own}." in submitter.get(f"/systems/{own}").text


def test_a_single_system_download_is_an_audit_event(client, session, portfolio):
    code = portfolio["vneid"].code
    client.get(f"/exports/systems/{code}.backstage")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.inventory"))
    assert event.after == {"format": "backstage", "filters": {"code": code}, "systems": 1}


def test_a_code_found_inside_longer_codes_exports_only_itself(client, session, portfolio, make_system):
    code = portfolio["vneid"].code
    for _ in range(10):
        make_system(name="Hệ thống", description="Mô tả", status="in_operation")
    (record,) = read_backstage(client.get(f"/exports/systems/{code}.backstage").get_data()).records
    assert record.values["code"] == code


def test_unknown_system_and_format_are_not_found(client, portfolio):
    assert client.get("/exports/systems/HTTT-0000-000000.publiccode").status_code == 404
    assert client.get(f"/exports/systems/{portfolio['vneid'].code}.csv").status_code == 404


def test_the_list_page_offers_the_ecosystem_formats(client, portfolio):
    page = client.get("/systems/?level=province").text
    assert "/exports/systems.publiccode?level=province" in page
    assert "/exports/systems.backstage?level=province" in page


@pytest.mark.parametrize("fmt", ["publiccode", "backstage"])
def test_the_command_line_exports_the_ecosystem_formats(app, portfolio, tmp_path, fmt):
    target = tmp_path / "out.yaml"
    result = app.test_cli_runner().invoke(
        args=[
            "export",
            "systems",
            "--format",
            fmt,
            "--output",
            str(target),
            "--filter",
            "level=province",
            "--base-url",
            "https://registry.gov.test",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "1 systems written" in result.output
    source = READERS[fmt](target.read_bytes())
    assert [r.values["code"] for r in source.records] == [portfolio["deployment"].code]
    assert f"https://registry.gov.test/systems/{portfolio['deployment'].code}" in target.read_text()


def test_a_streamed_export_leaves_no_connection_behind(app, client, portfolio):
    """The request's session is closed before the body streams; the writer must not reopen it."""
    pool = get_engine(app).pool
    for url in ("/exports/systems.backstage", f"/exports/systems/{portfolio['vneid'].code}.publiccode"):
        assert client.get(url).status_code == 200
        assert pool.checkedout() == 0, url
