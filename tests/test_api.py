"""The REST API's endpoints: who may do what, the error shape, paging, filters, writes, locking."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from registry.models import AuditEvent, Dependency, DuplicateWarning, InformationSystem
from registry.services.workflow import transition
from tests.conftest import OPERATOR, api_tokens, only_these_warnings, proposal_fields, sign_in


@pytest.fixture
def world(
    app, session, make_agency, make_capability, make_data_domain, make_system, make_user
) -> dict[str, Any]:
    """A province with a submitter and a draft, a central platform, one warning, and a token per role."""
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    province = make_agency(
        code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality", parent_id=central.id
    )
    other = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    capability = make_capability(code="documents")
    domain = make_data_domain()
    platform = make_system(
        name="Nền tảng quản lý văn bản dùng chung",
        is_shared_platform=True,
        status="in_operation",
        owner_agency_id=central.id,
        capability_ids=[capability.id],
    )
    draft = make_system(
        name="Phần mềm quản lý văn bản Tỉnh ủy Thanh Hóa",
        purpose="Điều hành văn bản",
        owner_agency_id=province.id,
        scope_level="province",
        capability_ids=[capability.id],
        data_domain_ids=[domain.id],
    )
    theirs = make_system(
        name="Cổng thông tin Tỉnh ủy Nghệ An", owner_agency_id=other.id, scope_level="province"
    )
    users = {
        "submitter": make_user("submitter", agency_id=province.id),
        "reviewer": make_user("reviewer"),
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }
    tokens = api_tokens(session, users)
    return {
        "central": central,
        "province": province,
        "other": other,
        "capability": capability,
        "platform": platform,
        "draft": draft,
        "theirs": theirs,
        "users": users,
        "tokens": tokens,
    }


@pytest.fixture
def api(app, world):
    """``api(role).get(...)``: a client sending that role's bearer token."""

    class Client:
        def __init__(self, secret: str):
            self.client = app.test_client()
            self.headers = {"Authorization": f"Bearer {secret}"}

        def __getattr__(self, method: str):
            def call(url: str, **kwargs: Any):
                return getattr(self.client, method)(url, headers=self.headers, **kwargs)

            return call

    return lambda role: Client(world["tokens"][role])


def _events(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _error(response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.is_json
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- authentication and roles -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/systems"),
        ("post", "/api/v1/systems"),
        ("get", "/api/v1/systems/{code}"),
        ("put", "/api/v1/systems/{code}"),
        ("patch", "/api/v1/systems/{code}"),
        ("get", "/api/v1/warnings"),
        ("get", "/api/v1/agencies"),
        ("get", "/api/v1/systems/{code}/findings"),
    ],
)
def test_anonymous_callers_get_a_json_401(anon_client, world, method, path):
    response = getattr(anon_client, method)(path.format(code=world["draft"].code), json={})
    _error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ["submitter", "reviewer", "auditor", "admin"])
def test_every_role_reads_the_whole_portfolio(api, world, role):
    listing = api(role).get("/api/v1/systems?per_page=100").get_json()
    assert {item["code"] for item in listing["items"]} == {
        world["platform"].code,
        world["draft"].code,
        world["theirs"].code,
    }
    assert api(role).get(f"/api/v1/systems/{world['theirs'].code}").status_code == 200
    assert api(role).get("/api/v1/agencies").status_code == 200
    assert api(role).get("/api/v1/warnings").status_code == 200


def test_a_read_scoped_token_cannot_write(api, world, session):
    before = _events(session)
    record = api("read").get(f"/api/v1/systems/{world['draft'].code}").get_json()
    assert _error(api("read").put(f"/api/v1/systems/{world['draft'].code}", json=record), 403, "forbidden")
    _error(api("read").post("/api/v1/systems", json={"name": "x"}), 403, "forbidden")
    _error(api("read").patch(f"/api/v1/systems/{world['draft'].code}", json=record), 403, "forbidden")
    assert _events(session) == before


def test_submitters_write_only_their_own_agency_s_systems(api, world, session):
    theirs = api("submitter").get(f"/api/v1/systems/{world['theirs'].code}").get_json()
    assert theirs["editable"] is False
    _error(api("submitter").put(f"/api/v1/systems/{world['theirs'].code}", json=theirs), 403, "forbidden")
    created = api("submitter").post(
        "/api/v1/systems",
        json={
            "name": "Phần mềm mới",
            "description": "Mô tả",
            "scope_level": "province",
            "owner_agency": "TU-NAN",
        },
    )
    error = _error(created, 422, "invalid")
    assert list(error["fields"]) == ["owner_agency"]
    own = api("submitter").post(
        "/api/v1/systems",
        json={
            "name": "Phần mềm mới",
            "description": "Mô tả",
            "scope_level": "province",
            "owner_agency": "TU-THA",
        },
    )
    assert own.status_code == 201, own.text
    assert own.get_json()["editable"] is True


def test_reviewers_and_auditors_cannot_register_or_edit(api, world):
    for role in ("reviewer", "auditor"):
        record = api(role).get(f"/api/v1/systems/{world['draft'].code}").get_json()
        assert record["editable"] is False
        _error(api(role).put(f"/api/v1/systems/{world['draft'].code}", json=record), 403, "forbidden")
        _error(api(role).post("/api/v1/systems", json=record), 403, "forbidden")


# --- list ------------------------------------------------------------------------------------------


def test_the_list_pages_with_a_total_and_links(api, world, make_system):
    for n in range(27):
        make_system(name=f"Hệ thống số {n:02d}", owner_agency_id=world["other"].id)
    first = api("auditor").get("/api/v1/systems?sort=code").get_json()
    assert (first["total"], first["pages"], first["page"], first["per_page"]) == (30, 2, 1, 25)
    assert len(first["items"]) == 25
    assert first["links"]["prev"] is None
    assert "page=2" in first["links"]["next"] and "sort=code" in first["links"]["next"]
    second = api("auditor").get(first["links"]["next"]).get_json()
    assert len(second["items"]) == 5 and second["links"]["next"] is None
    codes = [i["code"] for i in first["items"] + second["items"]]
    assert codes == sorted(codes) and len(set(codes)) == 30
    assert set(first["items"][0]) == {
        "code",
        "name",
        "status",
        "scope_level",
        "is_shared_platform",
        "owner_agency",
        "version",
        "updated_at",
        "open_findings",
        "best_warning_score",
    }


def _page_codes(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"HTTT-\d{4}-\d{6}", html)))


@pytest.mark.parametrize(
    "query",
    [
        "q=v%C4%83n+b%E1%BA%A3n",
        "q=van+ban",
        "status=draft",
        "status=draft&status=in_operation",
        "agency=VPTW",
        "agency=VPTW&agency_role=owner",
        "level=province",
        "capability=documents",
        "shared=yes",
        "shared=no&sort=-name",
    ],
)
def test_filters_give_what_the_list_page_shows(api, client, world, query):
    page = _page_codes(client.get(f"/systems/?{query}").text)
    listed = [item["code"] for item in api("admin").get(f"/api/v1/systems?{query}").get_json()["items"]]
    assert listed == page


def test_a_bad_filter_is_a_400_not_ignored(api, world):
    error = _error(api("admin").get("/api/v1/systems?status=nonsense"), 400, "bad_request")
    assert error["message"]
    _error(api("admin").get("/api/v1/systems?per_page=7"), 400, "bad_request")


# --- read, create, update ----------------------------------------------------------------------


def test_a_system_reads_as_the_interchange_record(api, world):
    record = api("admin").get(f"/api/v1/systems/{world['draft'].code}").get_json()
    assert record["code"] == world["draft"].code
    assert record["owner_agency"] == "TU-THA"
    assert record["capabilities"] == ["documents"]
    assert record["data_domains"] == ["documents"]
    assert record["version"] == 1
    assert record["updated_at"].endswith("+00:00")


def test_get_then_put_unchanged_records_nothing(api, world, session):
    code = world["draft"].code
    api("admin").patch(
        f"/api/v1/systems/{code}",
        json={"operating_rules_ref": "QĐ 1", "operating_rules_date": "2025-03-31", "version": 1},
    )
    record = api("admin").get(f"/api/v1/systems/{code}").get_json()
    assert record["operating_rules_date"] == "2025-03-31"
    before = _events(session)
    response = api("admin").put(f"/api/v1/systems/{code}", json=record)
    assert response.status_code == 200, response.text
    assert response.get_json() == record
    assert _events(session) == before


def test_put_replaces_and_patch_changes_only_what_is_sent(api, world, session):
    code = world["draft"].code
    record = api("admin").get(f"/api/v1/systems/{code}").get_json()
    patched = api("admin").patch(f"/api/v1/systems/{code}", json={"name": "Tên mới", "version": 1})
    assert patched.status_code == 200, patched.text
    assert patched.get_json()["name"] == "Tên mới"
    assert patched.get_json()["purpose"] == record["purpose"]
    version = patched.get_json()["version"]
    assert version > record["version"]
    replaced = api("admin").put(
        f"/api/v1/systems/{code}",
        json={
            "name": "Tên mới",
            "description": record["description"],
            "scope_level": "province",
            "owner_agency": "TU-THA",
            "version": version,
        },
    )
    assert replaced.status_code == 200, replaced.text
    body = replaced.get_json()
    assert body["purpose"] is None and body["capabilities"] == []
    assert body["status"] == "draft"
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc()).limit(2)).all()
    assert actions == ["system.update", "system.update"]


def test_a_stale_version_is_a_409_with_the_current_version(api, world):
    code = world["draft"].code
    saved = api("admin").patch(f"/api/v1/systems/{code}", json={"name": "Một", "version": 1})
    assert saved.status_code == 200
    error = _error(
        api("submitter").patch(f"/api/v1/systems/{code}", json={"name": "Hai", "version": 1}), 409, "conflict"
    )
    assert error["current_version"] == saved.get_json()["version"] > 1
    assert api("admin").get(f"/api/v1/systems/{code}").get_json()["name"] == "Một"


def test_a_save_must_name_its_version(api, world):
    error = _error(
        api("admin").patch(f"/api/v1/systems/{world['draft'].code}", json={"name": "x"}), 422, "invalid"
    )
    assert list(error["fields"]) == ["version"]


def test_validation_errors_name_record_columns(api, world, session):
    before = session.scalar(select(func.count()).select_from(InformationSystem))
    response = api("admin").post(
        "/api/v1/systems",
        json={
            "name": "",
            "scope_level": "galaxy",
            "owner_agency": "NOPE",
            "capabilities": ["documents", "nope"],
            "security_level": "high",
        },
    )
    error = _error(response, 422, "invalid")
    assert {"owner_agency", "capabilities", "security_level"} <= set(error["fields"])
    assert all(isinstance(m, str) for messages in error["fields"].values() for m in messages)
    valid_codes = api("admin").post(
        "/api/v1/systems",
        json={"name": "", "description": "x", "scope_level": "galaxy", "owner_agency": "VPTW"},
    )
    assert set(_error(valid_codes, 422, "invalid")["fields"]) == {"name", "scope_level"}
    assert session.scalar(select(func.count()).select_from(InformationSystem)) == before


def test_an_edit_cannot_change_the_status(api, world):
    error = _error(
        api("admin").patch(
            f"/api/v1/systems/{world['draft'].code}", json={"status": "in_operation", "version": 1}
        ),
        422,
        "invalid",
    )
    assert list(error["fields"]) == ["status"]


def test_create_returns_the_record_and_its_location(api, world, session):
    response = api("admin").post(
        "/api/v1/systems",
        json={
            "name": "Hệ thống mới",
            "description": "Mô tả",
            "scope_level": "central",
            "owner_agency": "VPTW",
            "user_agencies": ["TU-THA"],
            "instance_of": world["platform"].code,
            "security_level": "3",
        },
    )
    assert response.status_code == 201, response.text
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/v1/systems/{body['code']}")
    assert (body["instance_of"], body["user_agencies"], body["security_level"]) == (
        world["platform"].code,
        ["TU-THA"],
        3,
    )
    assert (
        session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())).first() == "system.create"
    )


@pytest.mark.parametrize("body", ['{"name": "a\\u0000b"}', "[1, 2]", "not json"])
def test_unreadable_bodies_are_a_400(api, world, body):
    response = api("admin").post("/api/v1/systems", data=body, content_type="application/json")
    _error(response, 400, "bad_request")


def test_unknown_systems_are_a_json_404(api):
    _error(api("admin").get("/api/v1/systems/HTTT-1999-000001"), 404, "not_found")
    _error(api("admin").patch("/api/v1/systems/HTTT-1999-000001", json={"version": 1}), 404, "not_found")


def test_session_clients_need_the_csrf_header_to_write(csrf_app, world):
    browser = sign_in(csrf_app.test_client(), world["users"]["admin"].username)
    response = browser.patch(f"/api/v1/systems/{world['draft'].code}", json={"name": "Mới", "version": 1})
    _error(response, 400, "bad_request")


# --- workflow ----------------------------------------------------------------------------------


def test_the_workflow_moves_through_transitions(api, world, session, make_agency):
    code = world["draft"].code
    incomplete = api("submitter").post(f"/api/v1/systems/{code}/transitions", json={"action": "submit"})
    assert "operator_agency_id" in _error(incomplete, 422, "invalid")["fields"]
    _error(
        api("auditor").post(f"/api/v1/systems/{code}/transitions", json={"action": "submit"}),
        403,
        "forbidden",
    )
    _error(
        api("submitter").post(f"/api/v1/systems/{code}/transitions", json={"action": "approve"}),
        409,
        "conflict",
    )
    _error(
        api("submitter").post(f"/api/v1/systems/{code}/transitions", json={"action": "fly"}), 409, "conflict"
    )


def test_a_reviewer_decides_with_a_reason(api, world, session, make_agency):
    from registry.services.systems import SystemInput, create_system

    fields = proposal_fields(make_agency, world["capability"])
    proposal = create_system(
        session,
        SystemInput.of(
            name="Đề xuất",
            description="Mô tả đầy đủ",
            scope_level="central",
            owner_agency_id=world["central"].id,
            **fields,
        ),
        actor=OPERATOR,
    )
    transition(session, proposal, "submit", actor=OPERATOR)
    session.commit()
    url = f"/api/v1/systems/{proposal.code}/transitions"
    moved = api("reviewer").post(url, json={"action": "start_review"})
    assert moved.status_code == 200, moved.text
    assert moved.get_json()["status"] == "in_review"
    no_reason = api("reviewer").post(url, json={"action": "reject"})
    assert "reason" in _error(no_reason, 422, "invalid")["fields"]
    version = moved.get_json()["version"]
    decided = api("reviewer").post(
        url,
        json={
            "action": "reject",
            "reason": "Trùng với nền tảng dùng chung",
            "reuse_code": world["platform"].code,
            "version": version,
        },
    )
    assert decided.status_code == 200, decided.text
    decisions = api("auditor").get(f"/api/v1/systems/{proposal.code}/decisions").get_json()["items"]
    assert [(d["outcome"], d["reuse_system"]) for d in decisions] == [("reject", world["platform"].code)]


# --- around a system ------------------------------------------------------------------------------


def test_dependencies_are_listed_added_and_removed(api, world, session):
    code = world["draft"].code
    added = api("submitter").post(
        f"/api/v1/systems/{code}/dependencies",
        json={"target_code": world["platform"].code, "kind": "authentication"},
    )
    assert added.status_code == 201, added.text
    around = api("auditor").get(f"/api/v1/systems/{code}/dependencies").get_json()
    assert [(e["system"], e["kind"]) for e in around["outgoing"]] == [
        (world["platform"].code, "authentication")
    ]
    platform = api("auditor").get(f"/api/v1/systems/{world['platform'].code}/dependencies").get_json()
    assert platform["incoming_count"] == 1 and platform["incoming"][0]["system"] == code
    dependency_id = added.get_json()["id"]
    other = api("submitter").delete(f"/api/v1/systems/{world['theirs'].code}/dependencies/{dependency_id}")
    _error(other, 403, "forbidden")
    assert api("submitter").delete(f"/api/v1/systems/{code}/dependencies/{dependency_id}").status_code == 204
    _error(api("submitter").delete(f"/api/v1/systems/{code}/dependencies/{dependency_id}"), 404, "not_found")
    assert session.scalar(select(func.count()).select_from(Dependency)) == 0


def test_findings_explain_the_rules_a_system_fails(api, world):
    findings = api("auditor").get(f"/api/v1/systems/{world['draft'].code}/findings").get_json()["items"]
    assert findings, "a bare draft fails several justification rules"
    assert {"rule", "severity", "title", "message", "details"} == set(findings[0])
    assert all(re.fullmatch(r"R\d+", f["rule"]) for f in findings)


@pytest.fixture
def warning(session, world) -> DuplicateWarning:
    a, b = sorted([world["platform"].id, world["draft"].id])
    found = DuplicateWarning(
        system_a_id=a,
        system_b_id=b,
        score=0.8,
        components={"name": 0.7},
        reasons=[{"code": "same_level"}],
        detector_version="test",
    )
    only_these_warnings(session, found)
    return found


def test_warnings_are_read_by_everyone_and_disposed_by_reviewers(api, world, warning):
    listed = api("submitter").get("/api/v1/warnings?disposition=open").get_json()
    assert [w["id"] for w in listed["items"]] == [warning.id] and listed["total"] == 1
    assert api("submitter").get("/api/v1/warnings?min_score=0.9").get_json()["total"] == 0
    seen = api("auditor").get(f"/api/v1/systems/{world['draft'].code}/warnings").get_json()["items"]
    assert seen[0]["other"] == world["platform"].code and seen[0]["explanations"]
    url = f"/api/v1/warnings/{warning.id}/disposition"
    body = {"disposition": "justified", "reason": "Phạm vi khác nhau, đã giải trình", "version": 1}
    _error(api("submitter").post(url, json=body), 403, "forbidden")
    _error(api("reviewer").post(url, json={**body, "version": 7}), 409, "conflict")
    _error(api("reviewer").post(url, json={**body, "reason": ""}), 422, "invalid")
    decided = api("reviewer").post(url, json=body)
    assert decided.status_code == 200, decided.text
    assert api("auditor").get(f"/api/v1/warnings/{warning.id}").get_json()["disposition"] == "justified"
    _error(api("auditor").get("/api/v1/warnings/999999"), 404, "not_found")
    _error(api("auditor").get("/api/v1/warnings?disposition=maybe"), 400, "bad_request")


def test_agencies_list_and_detail(api, world, make_agency):
    for n in range(30):
        make_agency(
            code=f"XA-{n:02d}",
            name=f"Đảng ủy xã {n}",
            level="commune",
            block="locality",
            parent_id=world["province"].id,
        )
    communes = api("auditor").get("/api/v1/agencies?level=commune&per_page=25").get_json()
    assert communes["total"] == 30 and communes["pages"] == 2 and "level=commune" in communes["links"]["next"]
    children = api("auditor").get("/api/v1/agencies?parent=VPTW").get_json()["items"]
    assert [a["code"] for a in children] == ["TU-THA"]
    assert api("auditor").get("/api/v1/agencies?parent=NOPE").get_json()["total"] == 0
    detail = api("auditor").get("/api/v1/agencies/TU-THA").get_json()
    assert detail == {
        "code": "TU-THA",
        "name": "Tỉnh ủy Thanh Hóa",
        "name_en": None,
        "level": "province",
        "block": "locality",
        "parent": "VPTW",
    }
    _error(api("auditor").get("/api/v1/agencies/NOPE"), 404, "not_found")


def test_the_docs_page_loads_its_scripts_from_files(anon_client, client):
    page = anon_client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    assert anon_client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert 'href="/api/v1/docs"' in client.get("/account/").text


@pytest.mark.parametrize(
    "url", ["/api/v1/systems/HTTT%00X", "/api/v1/systems?q=a%00b", "/api/v1/agencies?parent=%00"]
)
def test_text_the_databases_cannot_hold_is_a_400(api, world, url):
    _error(api("admin").get(url), 400, "bad_request")


def test_ids_beyond_the_database_s_range_are_a_404(api, world):
    _error(api("admin").get("/api/v1/warnings/99999999999"), 404, "not_found")
