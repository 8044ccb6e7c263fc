"""The portfolio-wide lists of the API: every finding, and the decision log.

Both page like ``/api/v1/warnings``; the decision log is the export's, with its filters and its
restriction of submitters to their own agency's decisions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from registry.auth.actor import Actor
from registry.exports import records
from registry.models import Decision, Finding
from registry.services import api_lists, workflow
from tests.conftest import OPERATOR, api_tokens, proposal_fields
from tests.test_api import _error

SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}


@pytest.fixture
def portfolio(make_agency, make_capability, make_system, make_user, session) -> dict[str, Any]:
    """A central office over a province over a commune, and another province.

    The central office runs a shared platform; the province built its own copy of it (R6) and
    had it approved; the commune's copy was sent back; the other province's was rejected, and
    it keeps a draft. Every role holds a token; ``read`` is an administrator's read-only one.
    """
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    province = make_agency(
        code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality", parent_id=central.id
    )
    commune = make_agency(
        code="XA-01", name="Đảng ủy xã Một", level="commune", block="locality", parent_id=province.id
    )
    other = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    capability = make_capability(code="party_members", name="Quản lý đảng viên", name_en="Party members")
    fields = proposal_fields(make_agency, capability)
    platform = make_system(
        name="Sổ tay đảng viên dùng chung",
        status="in_operation",
        is_shared_platform=True,
        owner_agency_id=central.id,
        capability_ids=[capability.id],
    )
    local = {
        **fields,
        "scope_level": "province",
        "overlap_justification": "Phục vụ riêng cấp tỉnh, đã giải trình.",
    }
    ours = make_system(name="Sổ tay đảng viên Thanh Hóa", owner_agency_id=province.id, **local)
    communal = make_system(name="Sổ tay đảng viên xã", owner_agency_id=commune.id, **local)
    theirs = make_system(name="Sổ tay đảng viên Huế", owner_agency_id=other.id, **local)
    draft = make_system(name="Cổng thông tin Huế", owner_agency_id=other.id, **local)
    reviewer = make_user("reviewer", username="thuongtruc")
    decisions = (
        (ours, "approve", platform.code),
        (communal, "request_changes", None),
        (theirs, "reject", None),
    )
    for system, outcome, reuse in decisions:
        submitter = Actor.of(make_user("submitter", agency_id=system.owner_agency_id))
        workflow.transition(session, system, "submit", actor=submitter)
        workflow.transition(session, system, "start_review", actor=Actor.of(reviewer))
        workflow.transition(
            session, system, outcome, actor=Actor.of(reviewer), reason=f"Lý do {outcome}", reuse_code=reuse
        )
    users = {
        "submitter": make_user("submitter", agency_id=province.id),
        "reviewer": reviewer,
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }
    tokens = api_tokens(session, users)
    return {
        "agencies": {"central": central, "province": province, "commune": commune, "other": other},
        "systems": {
            "platform": platform,
            "ours": ours,
            "communal": communal,
            "theirs": theirs,
            "draft": draft,
        },
        "users": users,
        "tokens": tokens,
    }


@pytest.fixture
def get(app, portfolio):
    """``get(role, url)``: the JSON answer to a GET sent with that role's bearer token."""

    def call(role: str, url: str, status: int = 200) -> Any:
        response = app.test_client().get(
            url, headers={"Authorization": f"Bearer {portfolio['tokens'][role]}"}
        )
        assert response.status_code == status, response.text
        return response.get_json()

    return call


def _stored(session) -> set[tuple[str, str]]:
    rows = session.execute(select(Finding.system_id, Finding.rule_code)).all()
    return {(str(system_id), rule) for system_id, rule in rows}


# --- findings ----------------------------------------------------------------------------------


def test_findings_list_every_stored_finding_most_severe_first(get, portfolio, session):
    listed = get("auditor", "/api/v1/findings?per_page=100")
    codes = {s.code: str(s.id) for s in portfolio["systems"].values()}
    assert {(codes[i["system"]], i["rule"]) for i in listed["items"]} == _stored(session)
    assert listed["total"] == len(listed["items"]) > 4
    order = [(SEVERITY_RANK[i["severity"]], i["system"], int(i["rule"][1:])) for i in listed["items"]]
    assert order == sorted(order)
    item = next(i for i in listed["items"] if i["system"] == portfolio["systems"]["ours"].code)
    assert set(item) == {
        "system",
        "system_name",
        "owner_agency",
        "rule",
        "severity",
        "title",
        "message",
        "details",
        "detected_at",
    }
    assert (item["system_name"], item["owner_agency"]) == ("Sổ tay đảng viên Thanh Hóa", "TU-THA")
    assert item["detected_at"].endswith("+00:00")
    one = get("auditor", f"/api/v1/systems/{item['system']}/findings")["items"]
    assert [{k: i[k] for k in one[0]} for i in listed["items"] if i["system"] == item["system"]] == one


def test_findings_speak_the_reader_s_language(get, portfolio):
    code = portfolio["systems"]["ours"].code
    english = get("auditor", "/api/v1/findings?rule=R6&lang=en")["items"]
    vietnamese = get("auditor", "/api/v1/findings?rule=R6")["items"]
    others = [portfolio["systems"][name].code for name in ("communal", "draft")]
    assert [i["system"] for i in english] == [code, *others]
    assert english[0]["title"] == "Duplicates a central shared platform"
    assert "Party members" in english[0]["message"] and "Quản lý đảng viên" in vietnamese[0]["message"]
    assert vietnamese[0]["title"] != english[0]["title"]
    assert english[0]["details"] == vietnamese[0]["details"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("rule=R6", lambda i: i["rule"] == "R6"),
        ("severity=high", lambda i: i["severity"] == "high"),
        ("status=approved", lambda i: i["system"] == "ours"),
        ("status=draft&status=in_operation", lambda i: i["system"] in {"draft", "platform"}),
        ("agency=TU-THA", lambda i: i["system"] in {"ours", "communal"}),
        ("agency=XA-01&severity=medium", lambda i: i["system"] == "communal" and i["severity"] == "medium"),
        ("agency=NOPE", lambda i: False),
    ],
)
def test_findings_filter_by_rule_severity_status_and_owner_agency(get, portfolio, query, expected):
    names = {s.code: name for name, s in portfolio["systems"].items()}
    everything = [
        {**i, "system": names[i["system"]]} for i in get("admin", "/api/v1/findings?per_page=100")["items"]
    ]
    wanted = [i for i in everything if expected(i)]
    listed = get("read", f"/api/v1/findings?per_page=100&{query}")
    assert [{**i, "system": names[i["system"]]} for i in listed["items"]] == wanted
    assert listed["total"] == len(wanted)


def test_findings_page_like_the_warnings(get, portfolio):
    total = get("auditor", "/api/v1/findings")["total"]
    first = get("auditor", "/api/v1/findings?per_page=25&severity=medium")
    medium = first["total"]
    assert 0 < medium < total
    assert (first["page"], first["per_page"], first["pages"], first["more"]) == (1, 25, 1, False)
    assert first["links"]["next"] is None and first["links"]["prev"] is None
    assert "severity=medium" in first["links"]["self"]
    # Findings, not systems, are what a page counts: one system's several fill a page.
    everything = [i["system"] + i["rule"] for i in get("auditor", "/api/v1/findings?per_page=100")["items"]]
    pages, page, url = [], 0, "/api/v1/findings?per_page=25"
    while url:
        body = get("auditor", url)
        page += 1
        assert body["page"] == page and body["pages"] == -(-total // 25)
        pages += [i["system"] + i["rule"] for i in body["items"]]
        url = body["links"]["next"]
    assert pages == everything
    beyond = get("auditor", "/api/v1/findings?page=99")
    assert beyond["items"] == [] and beyond["total"] == total and beyond["links"]["prev"].endswith("page=98")


def test_more_findings_than_a_page_split_over_pages(session, portfolio, make_system):
    for n in range(10):
        make_system(name=f"Hệ thống {n}", owner_agency_id=portfolio["agencies"]["other"].id)
    total = api_lists.list_findings(session, locale="vi", page=1, per_page=25).total
    assert total > 50
    seen = [
        (i["system"], i["rule"])
        for page in range(1, -(-total // 25) + 2)
        for i in api_lists.list_findings(session, locale="vi", page=page, per_page=25).items
    ]
    assert len(seen) == len(set(seen)) == total


# --- decisions ---------------------------------------------------------------------------------


def test_the_decision_log_is_listed_latest_first(get, portfolio, session):
    systems = portfolio["systems"]
    days = {systems["ours"].id: 3, systems["communal"].id: 2, systems["theirs"].id: 1}
    for system_id, age in days.items():
        when = datetime.now(UTC) - timedelta(days=age)
        session.execute(update(Decision).where(Decision.system_id == system_id).values(decided_at=when))
    session.commit()
    listed = get("auditor", "/api/v1/decisions")
    assert [i["system"] for i in listed["items"]] == [
        systems["theirs"].code,
        systems["communal"].code,
        systems["ours"].code,
    ]
    approved = listed["items"][-1]
    assert approved == {
        "system": systems["ours"].code,
        "system_name": "Sổ tay đảng viên Thanh Hóa",
        "owner_agency": "TU-THA",
        **get("auditor", f"/api/v1/systems/{systems['ours'].code}/decisions")["items"][0],
    }
    assert (approved["outcome"], approved["reuse_system"], approved["reviewer"]) == (
        "approve",
        systems["platform"].code,
        "thuongtruc",
    )
    assert (listed["total"], listed["pages"], listed["links"]["next"]) == (3, 1, None)


def test_the_decision_log_filters_as_its_export_does(get, portfolio, session):
    systems = portfolio["systems"]
    long_ago = datetime.now(UTC) - timedelta(days=40)
    session.execute(
        update(Decision).where(Decision.system_id == systems["ours"].id).values(decided_at=long_ago)
    )
    session.commit()
    today, old = datetime.now(UTC).date().isoformat(), long_ago.date().isoformat()

    def codes(query: str) -> list[str]:
        return [i["system"] for i in get("reviewer", f"/api/v1/decisions?{query}")["items"]]

    assert codes("status=reject") == [systems["theirs"].code]
    assert set(codes("status=reject&status=approve")) == {systems["theirs"].code, systems["ours"].code}
    assert systems["ours"].code not in codes(f"since={today}")
    assert codes(f"since={old}&until={old}") == [systems["ours"].code]
    assert codes(f"until={old}") == [systems["ours"].code]
    assert len(codes("since=0001-01-01&until=9999-12-31")) == 3
    assert set(codes("agency=TU-THA")) == {systems["ours"].code, systems["communal"].code}
    assert codes("agency=XA-01") == [systems["communal"].code]
    assert codes("agency=NOPE") == []
    page = get("reviewer", "/api/v1/decisions?status=reject&per_page=50")
    assert "status=reject" in page["links"]["self"] and "per_page=50" in page["links"]["self"]


def test_the_decision_list_holds_what_the_export_holds(session, portfolio):
    flt = records.RecordFilter(statuses=["approve", "request_changes"])
    exported = {row["system_code"] for row in records.decision_rows(session, flt)}
    listed = api_lists.list_decisions(
        session, OPERATOR, outcomes=["approve", "request_changes"], page=1, per_page=25
    )
    assert {item["system"] for item in listed.items} == exported and listed.total == 2


def test_review_outcomes_are_transparent_to_every_reader_at_every_door(get, portfolio, client_for):
    """A submitter reads another agency's decisions and findings as a reviewer does: on the
    API's lists, on the system's own routes, on its page and in the decision-log export."""
    theirs = portfolio["systems"]["theirs"].code
    everyone = get("read", "/api/v1/decisions")
    assert everyone["total"] == 3
    assert get("submitter", "/api/v1/decisions") == everyone
    assert (
        get("submitter", "/api/v1/decisions?agency=TU-HUE")["total"]
        == get("read", "/api/v1/decisions?agency=TU-HUE")["total"]
        == 1
    )
    assert get("submitter", f"/api/v1/systems/{theirs}/decisions") == get(
        "read", f"/api/v1/systems/{theirs}/decisions"
    )
    assert get("submitter", f"/api/v1/systems/{theirs}/findings") == get(
        "read", f"/api/v1/systems/{theirs}/findings"
    )
    assert get("submitter", "/api/v1/findings?agency=TU-HUE") == get("read", "/api/v1/findings?agency=TU-HUE")
    submitter = client_for("submitter", agency_id=portfolio["agencies"]["province"].id)
    exported = submitter.get("/exports/decisions.csv").get_data(as_text=True)
    assert theirs in exported
    page = submitter.get(f"/systems/{theirs}").get_data(as_text=True)
    reason = get("read", f"/api/v1/systems/{theirs}/decisions")["items"][0]["reason"]
    assert reason in page


# --- access, errors, document ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/findings", "/api/v1/decisions"])
def test_anonymous_callers_are_refused(anon_client, portfolio, path):
    response = anon_client.get(path)
    _error(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("role", ["submitter", "reviewer", "auditor", "read"])
@pytest.mark.parametrize("path", ["/api/v1/findings", "/api/v1/decisions"])
def test_every_reader_may_list(get, role, path):
    assert get(role, path)["items"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/findings?rule=R11",
        "/api/v1/findings?severity=grave",
        "/api/v1/findings?status=nonsense",
        "/api/v1/findings?status=draft&status=nonsense",
        "/api/v1/findings?per_page=7",
        "/api/v1/findings?page=0",
        "/api/v1/findings?agency=" + "X" * 41,
        "/api/v1/decisions?status=approved",
        "/api/v1/decisions?since=yesterday",
        "/api/v1/decisions?until=2026-02-30",
        "/api/v1/decisions?page=x",
        "/api/v1/decisions?agency=%00",
    ],
)
def test_bad_parameters_are_a_400(app, portfolio, url):
    client = app.test_client()
    response = client.get(url, headers={"Authorization": f"Bearer {portfolio['tokens']['auditor']}"})
    error = _error(response, 400, "bad_request")
    assert set(error) <= {"code", "message", "fields"}


def test_the_document_describes_both_lists(anon_client):
    paths = anon_client.get("/api/v1/openapi.json").get_json()["paths"]
    findings, decisions = paths["/api/v1/findings"]["get"], paths["/api/v1/decisions"]["get"]
    assert {p["name"] for p in findings["parameters"]} == {
        "rule",
        "severity",
        "agency",
        "status",
        "page",
        "per_page",
    }
    assert {p["name"] for p in decisions["parameters"]} == {
        "since",
        "until",
        "status",
        "agency",
        "page",
        "per_page",
    }
    for operation, page in ((findings, "FindingPage"), (decisions, "DecisionPage")):
        assert operation["x-permission"] == "view_portfolio"
        assert {"200", "400", "401", "403"} <= set(operation["responses"])
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": f"#/components/schemas/{page}"}
