"""The dashboard's figures: hand-checked arithmetic, the lists behind each bar, the API, the cache."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete
from sqlmodel import Session

from registry.models import DuplicateWarning, Finding, InformationSystem
from registry.services import reporting, workflow
from registry.services import stats as stats_service
from registry.services.stats import compute_stats, portfolio_stats
from tests.conftest import OPERATOR, only_these_warnings, proposal_fields


def _warning(
    a: InformationSystem, b: InformationSystem, score: float, disposition: str = "open"
) -> DuplicateWarning:
    low, high = sorted((a.id, b.id))  # type: ignore[type-var]
    return DuplicateWarning(
        system_a_id=low, system_b_id=high, score=score, detector_version="test", disposition=disposition
    )


@pytest.fixture
def portfolio(make_agency, make_capability, make_system, session: Session) -> dict[str, Any]:
    """A central Party office over a province over a commune, and a ministry.

    Six systems: the office's shared platform in operation (cost 10 bn), the province's copy
    in operation (4 bn) and a draft (no cost), the commune's copy (1 bn) submitted for review,
    the ministry's system in operation (2 bn). Warnings: platform~province copy confirmed,
    province copy~commune copy open (0.9), commune copy~ministry open (0.65), draft~ministry
    dismissed. Findings: two high, one medium, hand-placed.
    """
    office = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng", level="central", block="party")
    province = make_agency(
        code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality", parent_id=office.id
    )
    commune = make_agency(
        code="XA-01", name="Đảng ủy xã Một", level="commune", block="locality", parent_id=province.id
    )
    ministry = make_agency(code="BO-01", name="Bộ Một", level="central", block="state")
    capability = make_capability(code="party_members", name="Quản lý đảng viên")
    fields = proposal_fields(make_agency, capability)
    platform = make_system(
        name="Nền tảng đảng viên",
        status="in_operation",
        is_shared_platform=True,
        owner_agency_id=office.id,
        estimated_cost_vnd=10_000_000_000,
    )
    copy = make_system(
        name="Sổ đảng viên Thanh Hóa",
        status="in_operation",
        scope_level="province",
        owner_agency_id=province.id,
        estimated_cost_vnd=4_000_000_000,
    )
    draft = make_system(name="Cổng Thanh Hóa", scope_level="province", owner_agency_id=province.id)
    communal = make_system(
        name="Sổ đảng viên xã",
        scope_level="commune",
        owner_agency_id=commune.id,
        estimated_cost_vnd=1_000_000_000,
        overlap_justification="Phục vụ riêng cấp xã, đã giải trình.",
        **fields,
    )
    workflow.transition(session, communal, "submit", actor=OPERATOR)
    session.commit()
    ministry_system = make_system(
        name="Hệ thống của Bộ",
        status="in_operation",
        owner_agency_id=ministry.id,
        estimated_cost_vnd=2_000_000_000,
    )
    only_these_warnings(
        session,
        _warning(platform, copy, 0.95, "confirmed"),
        _warning(copy, communal, 0.9),
        _warning(communal, ministry_system, 0.65),
        _warning(draft, ministry_system, 0.8, "dismissed"),
    )
    session.execute(delete(Finding))
    session.add_all(
        [
            Finding(system_id=copy.id, rule_code="R6", severity="high"),
            Finding(system_id=communal.id, rule_code="R7", severity="high"),
            Finding(system_id=ministry_system.id, rule_code="R4", severity="medium"),
        ]
    )
    session.commit()
    return {
        "office": office,
        "province": province,
        "commune": commune,
        "ministry": ministry,
        "platform": platform,
        "copy": copy,
        "draft": draft,
        "communal": communal,
        "ministry_system": ministry_system,
    }


def _values(stats, key: str) -> dict[str, int]:
    return {bar.key: bar.value for bar in stats.breakdown(key).bars}


def test_figures_of_the_whole_portfolio_are_the_hand_counted_ones(app, session, portfolio):
    with app.test_request_context():
        stats = compute_stats(session, today=date.today())
    assert stats.systems == 5
    assert _values(stats, "status")["in_operation"] == 3
    assert _values(stats, "status")["submitted"] == 1
    assert _values(stats, "status")["draft"] == 1
    assert _values(stats, "level") == {"central": 2, "province": 2, "commune": 1}
    assert _values(stats, "block") == {"party": 1, "state": 1, "front": 0, "locality": 3}
    assert _values(stats, "findings") == {"high": 2, "medium": 1, "low": 0}
    # Open warnings only, by band: 0.9 strong, 0.65 possible; confirmed and dismissed are not open.
    assert _values(stats, "warnings") == {"strong": 1, "likely": 0, "possible": 1}
    duplicates = {bar.key: (bar.value, bar.amount_vnd) for bar in stats.breakdown("duplicates").bars}
    # Confirmed: platform and copy (14 bn). Suspected only: commune copy and ministry (3 bn).
    assert duplicates == {"confirmed": (2, 14_000_000_000), "suspected": (2, 3_000_000_000)}
    assert _values(stats, "waiting")["week"] == 1
    assert [p.code for p in stats.oldest_waiting] == [portfolio["communal"].code]


def test_an_agency_scope_counts_only_what_it_and_the_agencies_below_manage(app, session, portfolio):
    with app.test_request_context():
        stats = compute_stats(session, agency="TU-THA", today=date.today())
    assert stats.systems == 3  # the province's two and the commune's one
    assert _values(stats, "level") == {"central": 0, "province": 2, "commune": 1}
    assert _values(stats, "findings") == {"high": 2, "medium": 0, "low": 0}
    # Warnings touching the scope on either side: copy~communal and communal~ministry.
    assert sum(_values(stats, "warnings").values()) == 2
    duplicates = {bar.key: (bar.value, bar.amount_vnd) for bar in stats.breakdown("duplicates").bars}
    assert duplicates == {"confirmed": (1, 4_000_000_000), "suspected": (1, 1_000_000_000)}
    bar = stats.breakdown("status").bars[0]
    assert bar.filter == {"status": bar.key, "agency": "TU-THA", "agency_role": "owner"}


def test_waiting_proposals_age_from_their_submission(app, session, portfolio):
    with app.test_request_context():
        later = compute_stats(session, today=date.today() + timedelta(days=40))
        much_later = compute_stats(session, today=date.today() + timedelta(days=200))
    assert _values(later, "waiting") == {"week": 0, "month": 0, "quarter": 1, "older": 0}
    assert later.median_wait_days == 40
    assert _values(much_later, "waiting")["older"] == 1
    assert much_later.oldest_waiting[0].days == 200


def test_the_trend_counts_audited_events_by_month(app, session, portfolio):
    with app.test_request_context():
        stats = compute_stats(session, today=date.today())
        next_year = compute_stats(session, today=date.today() + timedelta(days=400))
    assert len(stats.trend.months) == 12
    assert stats.trend.months[-1] == date.today().replace(day=1)
    assert stats.trend.series["registered"][-1] == 5
    assert stats.trend.series["submitted"][-1] == 1
    assert sum(next_year.trend.series["registered"]) == 0


@pytest.mark.parametrize("key", ["status", "level", "block", "findings", "duplicates"])
def test_each_bar_opens_a_list_of_exactly_its_systems(app, client, session, portfolio, key):
    for scope in (None, "TU-THA"):
        with app.test_request_context():
            stats = compute_stats(session, agency=scope, today=date.today())
        for bar in stats.breakdown(key).bars:
            listed = client.get("/api/v1/systems", query_string={**bar.filter, "per_page": 100}).get_json()
            assert listed["total"] == bar.value, (scope, key, bar.key)


def test_the_cache_serves_until_the_next_audited_write(app, session, portfolio, make_system):
    stats_service._cache.clear()
    with app.test_request_context():
        first = portfolio_stats(session)
        again = portfolio_stats(session)
        assert again is first
        make_system(name="Hệ thống mới", owner_agency_id=portfolio["ministry"].id)
        after = portfolio_stats(session)
    assert after is not first
    assert after.systems == first.systems + 1


def test_the_home_page_is_the_dashboard_with_links_tables_and_csv(client, portfolio):
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-chart="status"' in html and 'data-chart="trend"' in html
    assert "/systems/?status=in_operation" in html
    assert "/systems/?warnings=confirmed" in html
    assert "<table" in html and "<svg" in html
    download = client.get("/dashboard/duplicates.csv?scope=all")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1][0] == "confirmed" and rows[1][2] == "2" and rows[1][3] == "14000000000"
    trend = list(
        csv.reader(io.StringIO(client.get("/dashboard/trend.csv").get_data(as_text=True).lstrip("\ufeff")))
    )
    assert len(trend) == 13
    assert client.get("/dashboard/nothing.csv").status_code == 404
    assert client.get("/?scope=NO-SUCH").status_code == 404


def test_a_submitter_sees_their_agency_first_and_can_widen(client_for, portfolio):
    submitter = client_for("submitter", agency_id=portfolio["province"].id)
    own = submitter.get("/").get_data(as_text=True)
    assert 'data-scope="TU-THA"' in own
    assert 'data-figure="systems">3<' in own
    whole = submitter.get("/?scope=all").get_data(as_text=True)
    assert 'data-scope="all"' in whole and 'data-figure="systems">5<' in whole


def test_a_reviewer_reads_the_waiting_proposals_first(client_for, portfolio):
    html = client_for("reviewer").get("/").get_data(as_text=True)
    assert html.index('data-chart="waiting"') < html.index('data-chart="status"')
    assert "/review/" in html


def test_the_api_returns_the_dashboards_figures(client, portfolio):
    body = client.get("/api/v1/stats").get_json()
    assert body["systems"] == 5
    assert {bar["key"]: bar["value"] for bar in body["breakdowns"]["findings"]["bars"]} == {
        "high": 2,
        "medium": 1,
        "low": 0,
    }
    assert body["breakdowns"]["duplicates"]["bars"][0]["amount_vnd"] == 14_000_000_000
    assert len(body["trend"]["months"]) == 12 and body["trend"]["series"]["registered"][-1] == 5
    assert body["oldest_waiting"][0]["code"] == portfolio["communal"].code
    scoped = client.get("/api/v1/stats?agency=XA-01").get_json()
    assert scoped["agency"] == "XA-01" and scoped["systems"] == 1
    missing = client.get("/api/v1/stats?agency=NO-SUCH")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"


def test_the_list_reports_an_unknown_block_severity_or_duplication_filter(client, portfolio):
    body = client.get("/api/v1/systems?block=moon").get_json()
    assert body["error"]["code"] == "bad_request"
    assert client.get("/api/v1/systems?warnings=maybe").status_code == 400
    page = client.get("/systems/?severity=extreme", follow_redirects=True)
    assert page.status_code == 200


def test_an_open_round_shows_who_reported_and_who_is_late(app, client, session, portfolio):
    today = date.today()
    round_ = reporting.open_round(
        session,
        reporting.RoundInput(
            title="Rà soát quý IV",
            period_start=today - timedelta(days=90),
            period_end=today,
            deadline=today + timedelta(days=10),
            agency_ids=(portfolio["province"].id, portfolio["commune"].id, portfolio["ministry"].id),
        ),
        actor=OPERATOR,
    )
    session.commit()
    reporting.confirm_no_systems(session, round_.id, portfolio["commune"].id, actor=OPERATOR)
    session.commit()
    with app.test_request_context():
        before_deadline = compute_stats(session, today=today)
        overdue = compute_stats(session, today=today + timedelta(days=13))
        scoped = compute_stats(session, agency="TU-THA", today=today + timedelta(days=13))
    (standing,) = before_deadline.rounds
    assert standing.agencies == 3 and standing.not_reported == 2
    assert {b.key: b.value for b in standing.states.bars} == {
        "completed": 1,
        "in_progress": 0,
        "late": 0,
        "not_started": 2,
    }
    (late,) = overdue.rounds
    assert [(p.code, p.days_late) for p in late.late] == [("BO-01", 3), ("TU-THA", 3)]
    assert {b.key: b.value for b in late.states.bars}["late"] == 2
    assert scoped.rounds[0].agencies == 2  # the province and its commune, not the ministry
    html = client.get("/").get_data(as_text=True)
    assert f'data-round="{round_.id}"' in html
    assert f"/reporting/{round_.id}?state=not_reported" in html
    body = client.get("/api/v1/stats").get_json()
    assert body["rounds"][0]["not_reported"] == 2 and body["rounds"][0]["states"]["completed"] == 1
    download = client.get(f"/dashboard/round-{round_.id}.csv")
    assert download.status_code == 200 and "completed" in download.get_data(as_text=True)


def test_after_a_write_the_previous_figures_are_served_while_one_refresh_runs(
    app, client, session, portfolio
):
    """A cold computation costs a few hundred milliseconds at national scale: readers after a
    write get the previous figures at once, marked as not current, and one thread recomputes."""
    app.config["STATS_REFRESH_IN_BACKGROUND"] = True
    stats_service._cache.clear()
    first = client.get("/api/v1/stats").get_json()
    assert first["current"] is True and first["systems"] == 5
    from registry.services.systems import SystemInput, create_system

    create_system(
        session,
        SystemInput.of(
            name="Hệ thống mới",
            description="Mô tả",
            scope_level="central",
            owner_agency_id=portfolio["ministry"].id,
        ),
        actor=OPERATOR,
    )
    session.commit()
    stale = client.get("/api/v1/stats").get_json()
    assert stale["current"] is False and stale["systems"] == 5
    stats_service._cache.wait(("", date.today()))
    fresh = client.get("/api/v1/stats").get_json()
    assert fresh["current"] is True and fresh["systems"] == 6
