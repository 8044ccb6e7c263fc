"""Every route × every role (and anonymous visitors) → the outcome the role model promises.

The table below is written by hand from the issue's role definitions, independently of
``registry.auth.policy``; routes are read from the app's URL map, so a new route without a row
here fails ``test_every_route_has_a_row``.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from registry.models import DuplicateWarning, Job
from registry.services.dependencies import add_dependency
from registry.services.reporting import RoundInput, open_round
from registry.services.tokens import issue_token
from tests.conftest import OPERATOR, only_these_warnings, sign_in

ROLES = ("submitter", "reviewer", "auditor", "admin")
EVERYONE = frozenset(ROLES)
PUBLIC = "public"

EXPECTED: dict[str, frozenset[str] | str] = {
    "pages.home": EVERYONE,
    "dashboard.chart_csv": EVERYONE,
    "pages.set_language": PUBLIC,
    "pages.health": PUBLIC,
    "pages.ready": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": EVERYONE,
    "systems.index": EVERYONE,
    "systems.detail": EVERYONE,
    "systems.history": EVERYONE,
    "systems.create": frozenset({"submitter", "admin"}),
    "systems.edit": frozenset({"submitter", "admin"}),
    "systems.add_dependency_view": frozenset({"submitter", "admin"}),
    "systems.remove_dependency_view": frozenset({"submitter", "admin"}),
    "systems.move": frozenset({"submitter", "admin"}),  # "submit" on the submitter's agency's draft
    "review.queue": frozenset({"reviewer"}),
    "review.page": frozenset({"reviewer"}),
    "review.decide": frozenset({"reviewer"}),
    "review.dispose": frozenset({"reviewer"}),
    "review.assign": frozenset({"reviewer"}),
    "review.compare": EVERYONE,
    "review.clusters": EVERYONE,
    "graph.explorer": EVERYONE,
    "exports.systems": EVERYONE,  # submitters get their own agency's systems only
    "exports.as_of_form": EVERYONE,  # a past-date inventory: the download obeys the inventory rule
    "imports.index": frozenset({"submitter", "admin"}),  # submitters into their own agency only
    "imports.preview": frozenset({"submitter", "admin"}),
    "imports.commit": frozenset({"submitter", "admin"}),
    "imports.check": frozenset({"submitter", "admin"}),
    "imports.template": frozenset({"submitter", "admin"}),
    "exports.decisions": EVERYONE,  # every decision, for every reader: review outcomes are transparent
    "exports.warnings": EVERYONE,  # every warning, for every reader
    "exports.audit_trail": frozenset({"auditor", "admin"}),
    "exports.system": EVERYONE,  # one system; submitters only their own agency's (the draft here)
    "notifications.index": EVERYONE,
    "notifications.mark_read": EVERYONE,
    "agencies.index": EVERYONE,
    "scorecards.index": EVERYONE,
    "scorecards.download": EVERYONE,
    "scorecards.detail": EVERYONE,
    "scorecards.printable": EVERYONE,
    "account.index": EVERYONE,
    "account.change_password": EVERYONE,
    "account.issue_token": EVERYONE,
    "account.revoke_token": EVERYONE,
    "users.index": frozenset({"admin"}),
    "users.create": frozenset({"admin"}),
    "users.edit": frozenset({"admin"}),
    "audit.index": frozenset({"auditor", "admin"}),
    "audit.verify": frozenset({"auditor", "admin"}),
    "api.me": EVERYONE,
    "api.system_detail": EVERYONE,
    "api.similar": EVERYONE,
    "api.system_add_dependency": frozenset({"submitter", "admin"}),
    "api.system_dependencies": EVERYONE,
    "api.system_remove_dependency": frozenset({"submitter", "admin"}),
    "api.systems_list": EVERYONE,
    "api.system_create": frozenset({"submitter", "admin"}),
    "api.system_update": frozenset({"submitter", "admin"}),  # PUT and PATCH; own agency for submitters
    "api.system_transition": frozenset({"submitter", "reviewer", "admin"}),  # the workflow decides which move
    "api.system_warnings": EVERYONE,
    "api.system_findings": EVERYONE,
    "api.system_decisions": EVERYONE,
    "api.warnings_list": EVERYONE,
    "api.findings_list": EVERYONE,
    "api.stats": EVERYONE,
    "api.decisions_list": EVERYONE,  # every decision, for every reader
    "api.clusters_list": EVERYONE,
    "api.graph_neighbourhood": EVERYONE,
    "api.warning_detail": EVERYONE,
    "api.warning_dispose": frozenset({"reviewer"}),
    "api.review_queue": frozenset({"reviewer"}),
    "api.system_assign": frozenset({"reviewer"}),
    "api.agencies_list": EVERYONE,
    "api.agency_detail": EVERYONE,
    "reporting.index": EVERYONE,
    "reporting.new_round": frozenset({"reviewer", "admin"}),
    "reporting.round_page": EVERYONE,
    "reporting.remind": frozenset({"reviewer", "admin"}),
    "reporting.close": frozenset({"reviewer", "admin"}),
    "reporting.agency_page": EVERYONE,
    "reporting.extend": frozenset({"reviewer", "admin"}),
    "reporting.confirm": frozenset({"submitter", "admin"}),  # the submitter's own agency's systems only
    "reporting.correct": frozenset({"submitter", "admin"}),
    "reporting.no_systems": frozenset({"submitter", "admin"}),
    "reporting.file_usage": frozenset({"submitter", "admin"}),  # own agency's systems for submitters
    "reporting.usage_import_page": frozenset({"submitter", "admin"}),
    "reporting.usage_import_commit": frozenset({"submitter", "admin"}),
    "api.system_usage": EVERYONE,
    "api.system_usage_file": frozenset({"submitter", "admin"}),
    "api.rounds_list": EVERYONE,
    "api.round_detail": EVERYONE,
    "api.round_attest": frozenset({"submitter", "admin"}),  # own agency's systems for submitters
    "api.scorecards_list": EVERYONE,
    "api.scorecard_detail": EVERYONE,
    "jobs.index": frozenset({"reviewer", "admin"}),  # those who may run scans follow every job
    "jobs.start_scan": frozenset({"reviewer", "admin"}),
    "jobs.start_embedding": frozenset({"reviewer", "admin"}),
    "jobs.detail": EVERYONE,  # the starter's own job; someone else's is a 404, not a 403
    "jobs.cancel": EVERYONE,
    "jobs.download": EVERYONE,  # the requester's own export; anyone else's is a 404
    "api.scan_start": frozenset({"reviewer", "admin"}),
    "api.embedding_start": frozenset({"reviewer", "admin"}),
    "api.job_detail": EVERYONE,
    "api.openapi_json": PUBLIC,
    "api.docs": PUBLIC,
}


def _routes(app) -> list[tuple[str, str, str]]:
    return sorted(
        (rule.endpoint, rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def test_every_route_has_a_row(app):
    assert {endpoint for endpoint, _rule, _method in _routes(app)} == set(EXPECTED)


@pytest.fixture
def world(app, session, make_agency, make_user, make_system) -> dict[str, Any]:
    """One account per role; the submitter's agency owns a draft with a dependency."""
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    users = {role: make_user(role, agency_id=province.id if role == "submitter" else None) for role in ROLES}
    platform = make_system(name="Nền tảng dùng chung", is_shared_platform=True, status="in_operation")
    draft = make_system(name="Phần mềm đề xuất", owner_agency_id=province.id)
    make_system(name="Cổng thông tin tỉnh", owner_agency_id=province.id, status="in_operation")
    round_ = open_round(
        session,
        RoundInput(
            title="Báo cáo 2026",
            period_start=date(2026, 1, 1),
            period_end=date(2026, 6, 30),
            deadline=date.today() + timedelta(days=30),
            agency_ids=(province.id,),
        ),
        actor=OPERATOR,
    )
    dependency = add_dependency(
        session, draft, actor=OPERATOR, target_code=platform.code, kind="data_exchange"
    )
    warning = DuplicateWarning(
        system_a_id=platform.id,
        system_b_id=draft.id,
        score=0.8,
        components={},
        reasons=[],
        detector_version="test",
    )
    only_these_warnings(session, warning)
    job = Job(kind="scan", dedupe_key="scan:portfolio", started_by_label="admin", state="succeeded")
    session.add(job)
    tokens = {
        role: issue_token(session, user, name="sync", scope="read", days=30, actor=OPERATOR).token.id
        for role, user in users.items()
    }
    session.commit()
    return {
        "users": users,
        "draft": draft,
        "dependency": dependency,
        "tokens": tokens,
        "warning": warning,
        "round": round_,
        "job": job,
    }


def _url(app, endpoint: str, role: str | None, world: dict[str, Any]) -> str:
    values = {
        "code": world["draft"].code,
        "dependency_id": world["dependency"].id,
        "user_id": world["users"]["submitter"].id,
        "token_id": world["tokens"].get(role or "admin"),
        "action": "submit",
        "warning_id": world["warning"].id,
        "fmt": "csv",
        "token": "not-an-upload",
        "key": "status",
        "round_id": world["round"].id,
        "job_id": world["job"].id,
    }
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    if endpoint == "pages.set_language":
        values["code"] = "en"
    if endpoint == "exports.system":
        values["fmt"] = "publiccode"
    if endpoint in ("reporting.agency_page", "reporting.no_systems", "reporting.extend"):
        values["code"] = "TU-THA"
    args = {name: values[name] for name in rule.arguments}
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


def _outcome(response) -> str:
    """Refused (403), sent to sign in (401, or a redirect to the login page that comes back), or let in."""
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 401 or (
        response.status_code == 302 and "/login?next=" in response.headers.get("Location", "")
    ):
        return "login"
    return "allowed"


@pytest.mark.parametrize("who", [None, *ROLES], ids=["anonymous", *ROLES])
def test_the_authorization_matrix(app, world, who):
    failures = []
    for endpoint, _rule, method in _routes(app):
        client = app.test_client()
        if who is not None:
            sign_in(client, world["users"][who].username)
        url = _url(app, endpoint, who, world)
        if method == "GET":
            response = client.get(url)
        elif url.startswith("/api/"):
            response = client.open(url, method=method, json={})
        else:
            response = client.post(url, data={})
        expected_rule = EXPECTED[endpoint]
        if expected_rule == PUBLIC:
            expected = "allowed"
        elif who is None:
            expected = "login"
        else:
            expected = "allowed" if who in expected_rule else "forbidden"
        got = _outcome(response)
        if got != expected:
            failures.append(f"{method} {url} as {who or 'anonymous'}: expected {expected}, got {got}")
    assert failures == []
