"""Agency scorecards: each indicator's arithmetic on a small hand-checked portfolio, the roll-up,
empty agencies, the cache and its invalidation, the pages, the CSV and the API."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, update
from sqlmodel import Session

from registry.models import (
    Dependency,
    DuplicateWarning,
    Finding,
    InformationSystem,
    SystemAttestation,
    UsageReport,
)
from registry.services import scorecards as sc
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR, only_these_warnings

TODAY = datetime.now(UTC).date()
GOVERNED = {
    "legal_basis": "Quyết định số 204-QĐ/TW",
    "usage_orientation": "Dùng chung cho các cơ quan Đảng",
}


@pytest.fixture(autouse=True)
def _no_stale_cache():
    sc.clear_cache()
    yield
    sc.clear_cache()


@pytest.fixture
def portfolio(session, make_agency, make_system, make_capability):
    """The hand-checked portfolio that every expected figure below is worked out from.

    Tree: BAN (central, party) > BAN-D (central, party); TU-A (province, locality) > UBND-A
    (province, state), X1, X2, X3 (communes); TU-B (province) with nothing below it.
    """
    ban = make_agency(code="BAN", name="Ban Tuyên giáo Trung ương")
    ban_d = make_agency(code="BAN-D", name="Vụ Báo chí", parent_id=ban.id)
    tu_a = make_agency(code="TU-A", name="Tỉnh ủy An", level="province", block="locality")
    ubnd_a = make_agency(code="UBND-A", name="Ủy ban An", level="province", block="state", parent_id=tu_a.id)
    x1, x2, x3 = (
        make_agency(code=f"X{n}", name=f"Xã {n}", level="commune", block="locality", parent_id=tu_a.id)
        for n in (1, 2, 3)
    )
    tu_b = make_agency(code="TU-B", name="Tỉnh ủy Bình", level="province", block="locality")
    capability = make_capability()
    governed = {**GOVERNED, "operator_agency_id": tu_a.id, "user_agency_ids": [x1.id]}

    def system(owner, status, scope="commune", **values):
        return make_system(owner_agency_id=owner.id, status=status, scope_level=scope, **values)

    platform = system(
        tu_a,
        "in_operation",
        "province",
        name="Nền tảng dùng chung tỉnh An",
        is_shared_platform=True,
        operating_rules_ref="QĐ 1/QC",
        target_users=1000,
        active_users=100,
        estimated_cost_vnd=5_000_000,
        **governed,
    )
    s1 = system(
        x1,
        "in_operation",
        name="Phần mềm một cửa xã 1",
        operating_rules_ref="QĐ 2/QC",
        target_users=100,
        active_users=50,
        estimated_cost_vnd=1_000_000,
        **governed,
    )
    s2 = system(x1, "in_operation", name="Phần mềm lưu trữ xã 1", target_users=200, **governed)
    s3 = system(x1, "draft", name="Bản nháp xã 1")
    s4 = system(
        x2,
        "submitted",
        name="Đề xuất xã 2",
        mandate="Kế hoạch 02-KH/BCĐTW",
        security_level=2,
        target_users=30,
        capability_ids=[capability.id],
        **governed,
    )
    s5 = system(ubnd_a, "retired", "province", name="Hệ thống cũ của Ủy ban")
    s6 = system(ban_d, "in_operation", "central", name="Cổng thông tin của Vụ")

    session.add(Dependency(source_id=s1.id, target_id=platform.id, kind="data_exchange"))
    session.add(Dependency(source_id=s2.id, target_id=s6.id, kind="data_exchange"))  # s6 is no platform
    session.add_all(
        [
            UsageReport(
                system_id=s1.id,
                period_start=TODAY - timedelta(days=120),
                period_end=TODAY - timedelta(days=30),
                active_users=80,
            ),
            UsageReport(
                system_id=s1.id,
                period_start=TODAY - timedelta(days=300),
                period_end=TODAY - timedelta(days=210),
                active_users=10,
            ),
            UsageReport(
                system_id=s2.id,
                period_start=TODAY - timedelta(days=800),
                period_end=TODAY - timedelta(days=700),
                active_users=150,
            ),
        ]
    )
    # Findings and warnings by hand: the figures must follow what is stored, whatever the rules said.
    session.execute(delete(Finding))
    session.add_all(
        [
            Finding(system_id=s2.id, rule_code="R1", severity="high"),
            Finding(system_id=s2.id, rule_code="R4", severity="medium"),
            Finding(system_id=s3.id, rule_code="R1", severity="high"),  # a draft: not counted
            Finding(system_id=platform.id, rule_code="R8", severity="low"),
            Finding(system_id=s5.id, rule_code="R10", severity="medium"),  # retired: not counted
        ]
    )
    session.execute(
        update(InformationSystem)
        .where(InformationSystem.id == s2.id)
        .values(updated_at=datetime.now(UTC) - timedelta(days=400))
    )
    session.commit()
    only_these_warnings(
        session,
        _warning(s1.id, s4.id, "open"),
        _warning(s2.id, platform.id, "dismissed"),
        _warning(s5.id, s6.id, "confirmed"),  # s5 is retired: only s6 counts
    )
    return SimpleNamespace(
        ban=ban, ban_d=ban_d, tu_a=tu_a, ubnd_a=ubnd_a, x1=x1, x2=x2, x3=x3, tu_b=tu_b,
        platform=platform, s1=s1, s2=s2, s4=s4, s6=s6,
    )  # fmt: skip


def _warning(a: int, b: int, disposition: str) -> DuplicateWarning:
    first, second = sorted((a, b))
    return DuplicateWarning(
        system_a_id=first, system_b_id=second, score=0.8, detector_version="t", disposition=disposition
    )


def _cards(session):
    return sc.compute_scorecards(session, TODAY)


def _row(cards, code):
    return cards.rows[cards.by_code[code]]


def test_a_commune_s_indicators_are_worked_out_by_hand(session, portfolio):
    x1 = _row(_cards(session), "X1")
    assert (x1.total.registered, x1.total.portfolio, x1.total.in_operation) == (3, 2, 2)
    assert x1.values == {
        "governance": 0.5,  # s2 is in operation without operating rules
        "connected": 0.5,  # s1 uses the platform; s2 only depends on a system that is none
        "findings_high": 1,  # s2's; the draft's finding is left out
        "findings_medium": 1,
        "findings_low": 0,
        "duplicates": 0.5,  # s1's open warning; s2's was dismissed
        "fresh": 0.5,  # s2 was last updated 400 days ago
        "usage_reporting": 0.5,  # s2's only report ended 700 days ago
        # s1's latest report (80, not the older 10 nor its declared 50), and s2's one stale report
        # (150), over their targets (100 + 200)
        "active_user_rate": pytest.approx(230 / 300),
        "cost_per_active_user": 12_500,  # 1,000,000 đồng over s1's 80 active users; s2 gives no cost
    }
    assert x1.score == 54.4  # mean of 0.5, 0.5, 1 - 0.5, 0.5, 0.5 and 0.7667
    assert x1.rank == 1 and not x1.no_systems


def test_a_proposal_needs_no_operating_rules_and_nothing_in_operation_gives_no_result(session, portfolio):
    x2 = _row(_cards(session), "X2")
    assert x2.values["governance"] == 1.0
    assert x2.values["duplicates"] == 1.0
    assert x2.values["findings_high"] == 0  # measured: zero findings on one system
    assert x2.values["usage_reporting"] is None  # nothing in operation: no result, not 0 %
    assert x2.values["active_user_rate"] is None
    assert x2.values["cost_per_active_user"] is None
    assert x2.score == 50.0  # governance 1, connected 0, not duplicated 0, fresh 1
    assert x2.rank == 2


def test_the_province_rolls_up_its_own_systems_its_offices_and_its_communes(session, portfolio):
    cards = _cards(session)
    tu_a = _row(cards, "TU-A")
    assert (tu_a.total.registered, tu_a.total.portfolio, tu_a.total.in_operation) == (6, 4, 3)
    assert tu_a.own.registered == 1
    values = tu_a.values
    assert values["governance"] == 0.75  # platform, s1, s4 of platform, s1, s2, s4
    assert values["connected"] == 0.5  # the platform itself and s1
    assert values["fresh"] == 0.75
    assert values["usage_reporting"] == pytest.approx(1 / 3)
    assert values["active_user_rate"] == pytest.approx(330 / 1300)
    assert values["cost_per_active_user"] == pytest.approx(6_000_000 / 180)
    assert (values["findings_high"], values["findings_medium"], values["findings_low"]) == (1, 1, 1)
    assert values["duplicates"] == 0.5
    expected = (0.75 + 0.5 + 0.5 + 0.75 + 1 / 3 + 330 / 1300) / 6
    assert tu_a.score == round(100 * expected, 1)
    assert tu_a.rank == 1


def test_agencies_without_systems_have_a_row_flagged_and_no_score(session, portfolio):
    cards = _cards(session)
    empty = _row(cards, "TU-B")
    assert empty.no_systems and empty.score is None and empty.rank is None
    assert all(value is None for value in empty.values.values())
    retired_only = _row(cards, "UBND-A")  # registered, but nothing in the portfolio
    assert not retired_only.no_systems and retired_only.score is None
    provinces = sc.select_rows(cards, level="province")
    assert [r.code for r in provinces] == ["TU-A", "TU-B", "UBND-A"]  # scored first, then by name
    communes = sc.select_rows(cards, level="commune")
    assert [r.code for r in communes] == ["X1", "X2", "X3"] and _row(cards, "X3").no_systems


def test_nested_central_agencies_roll_up_and_ties_share_a_rank(session, portfolio):
    cards = _cards(session)
    ban, ban_d = _row(cards, "BAN"), _row(cards, "BAN-D")
    assert ban.own.registered == 0 and ban.total.registered == 1
    assert ban.values == ban_d.values
    assert ban.values["duplicates"] == 1.0  # s6's confirmed pair with a retired system
    assert ban.score == ban_d.score == 20.0  # governance 0, connected 0, not duplicated 0, fresh 1, reports 0
    assert ban.rank == ban_d.rank == 1


def test_the_national_roll_up_is_by_block_and_counts_each_system_once(session, portfolio):
    cards = _cards(session)
    by_block = {total.block: total for total in cards.blocks}
    assert by_block["party"].tally.registered == 1
    assert by_block["state"].tally.registered == 1
    assert by_block["locality"].tally.registered == 5
    assert by_block["front"].tally.registered == 0 and by_block["front"].score is None
    assert cards.national.tally.registered == 7
    assert cards.national.tally.portfolio == 5


def test_level_median_and_sorting_by_an_indicator(session, portfolio):
    cards = _cards(session)
    assert cards.medians["commune"]["governance"] == 0.75  # X1 0.5 and X2 1.0; X3 has none
    assert cards.medians["commune"]["score"] == pytest.approx(52.2)
    by_duplicates = sc.select_rows(cards, level="commune", sort="duplicates")
    assert [r.code for r in by_duplicates] == ["X1", "X2", "X3"]  # lower is better; no value last
    worst_first = sc.select_rows(cards, level="commune", sort="duplicates", descending=True)
    assert [r.code for r in worst_first] == ["X2", "X1", "X3"]
    assert [r.code for r in sc.select_rows(cards, level="province", parent="TU-A")] == ["UBND-A"]
    assert [r.code for r in sc.select_rows(cards, level="province", block="state")] == ["UBND-A"]


def test_the_composite_score_ignores_what_cannot_be_measured():
    assert sc.composite_score({"governance": 1.0, "connected": None, "duplicates": 0.25}) == 87.5
    assert sc.composite_score({"active_user_rate": 3.0}) == 100.0  # counted at most 100 %
    assert sc.composite_score(dict.fromkeys(sc.INDICATOR_KEYS)) is None


def test_a_write_through_the_services_changes_the_next_answer(session, portfolio):
    head = sc.watermark(session)
    before = sc.scorecards(session, TODAY)
    assert _row(before, "X1").values["governance"] == 0.5
    assert sc.scorecards(session, TODAY) is before  # nothing changed: the same figures, not recomputed

    # A write that bypasses the services is not seen: proof that the figures come from the cache.
    session.execute(update(InformationSystem).where(InformationSystem.id == portfolio.s6.id).values(name="x"))
    session.commit()
    assert sc.scorecards(session, TODAY) is before

    # Another worker saves through the service, in its own connection and transaction.
    with Session(session.get_bind()) as other:
        s2 = other.get(InformationSystem, portfolio.s2.id)
        data = SystemInput.from_system(s2).replace(operating_rules_ref="QĐ 9/QC")
        update_system(other, s2, data, actor=OPERATOR, expected_version=s2.version)
        other.commit()
    session.commit()  # end this worker's read transaction, as each request does
    assert sc.watermark(session) != head
    after = sc.scorecards(session, TODAY)
    assert after is not before
    assert _row(after, "X1").values["governance"] == 1.0
    assert _row(after, "X1").values["fresh"] == 1.0  # the save confirmed it too


def test_the_api_pages_every_agency_of_a_level(client, portfolio):
    first = client.get("/api/v1/scorecards?level=commune&per_page=25").get_json()
    assert first["total"] == 3 and first["pages"] == 1
    assert [item["agency"]["code"] for item in first["items"]] == ["X1", "X2", "X3"]
    x1, _x2, x3 = first["items"]
    assert x1["rank"] == 1 and x1["score"] == 54.4 and x1["agency"]["parent"] == "TU-A"
    assert x1["indicators"]["governance"] == 0.5
    assert x1["systems"] == {"registered": 3, "portfolio": 2, "in_operation": 2, "own_registered": 3}
    assert x3["no_systems"] is True and x3["score"] is None and x3["indicators"]["fresh"] is None

    paged = client.get("/api/v1/scorecards?level=province&block=locality&page=2&per_page=25").get_json()
    assert paged["total"] == 2 and paged["items"] == [] and paged["links"]["prev"].endswith("page=1")
    assert "block=locality" in paged["links"]["self"]
    assert client.get("/api/v1/scorecards?level=planet").status_code == 400
    assert client.get("/api/v1/scorecards?per_page=7").status_code == 400


def test_the_api_reads_one_agency_with_medians_children_and_definitions(client, portfolio):
    response = client.get("/api/v1/scorecards/TU-A")
    assert response.status_code == 200
    body = response.get_json()
    assert body["agency"]["code"] == "TU-A" and body["rank"] == 1
    assert body["own_indicators"]["governance"] == 1.0  # the platform alone
    assert body["level_median"]["governance"] == 0.75  # TU-A is the only scored province
    assert {child["agency"]["code"] for child in body["children"]} == {"UBND-A", "X1", "X2", "X3"}
    assert [d["key"] for d in body["definitions"]] == list(sc.INDICATOR_KEYS)
    assert client.get("/api/v1/scorecards/NOPE").status_code == 404


@pytest.mark.parametrize("role", ["submitter", "reviewer", "auditor", "admin"])
def test_every_role_that_views_the_portfolio_reads_scorecards(client_for, make_agency, role):
    agency = make_agency(code="TU-R", level="province", block="locality")
    client = client_for(role, agency_id=agency.id if role == "submitter" else None)
    for path in ("/scorecards", "/scorecards/TU-R", "/scorecards/TU-R/print", "/scorecards.csv"):
        assert client.get(path).status_code == 200, path
    assert client.get("/api/v1/scorecards").status_code == 200


def test_anonymous_visitors_are_refused(anon_client, make_agency):
    make_agency(code="TU-R", level="province", block="locality")
    assert anon_client.get("/scorecards").status_code in (302, 401)
    assert anon_client.get("/scorecards/TU-R/print").status_code in (302, 401)
    assert anon_client.get("/api/v1/scorecards").status_code == 401


def test_the_ranking_page_shows_figures_links_and_flags(client, portfolio):
    page = client.get("/scorecards?level=commune").text
    assert 'data-agency="X1"' in page and 'data-agency="X3"' in page
    assert "data-no-systems" in page
    assert "/systems/?agency=X1&amp;agency_role=owner&amp;status=submitted" in page
    assert "—" in page  # X2's usage reporting: no result rather than 0
    past_the_end = client.get("/scorecards?level=commune&page=9").text
    assert 'data-agency="X1"' in past_the_end  # the last page, as the systems list does
    missing = client.get("/scorecards/NOPE")
    assert missing.status_code == 404


def test_the_scorecard_and_its_print_view_carry_every_definition(client, portfolio):
    detail = client.get("/scorecards/X1").text
    printable = client.get("/scorecards/X1/print").text
    for indicator in sc.INDICATORS:
        assert str(indicator.definition)[:40] in detail
        assert str(indicator.definition)[:40] in printable
    assert "data-print-view" in detail
    assert "scorecard-print.css" in printable and 'data-menu="main"' not in printable


def test_the_csv_holds_every_row_of_the_filtered_ranking(client, portfolio):
    response = client.get("/scorecards.csv?level=commune&per_page=25&page=3")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert [r["agency"] for r in rows] == ["X1", "X2", "X3"]
    assert rows[0]["governance"] == "0.5" and rows[2]["no_systems"] == "yes" and rows[2]["score"] == ""


def test_an_attestation_in_the_last_twelve_months_keeps_a_record_live(session, portfolio):
    assert _row(_cards(session), "X1").values["fresh"] == 0.5  # s2 was last saved 400 days ago
    old = SystemAttestation(
        system_id=portfolio.s2.id,
        agency_id=portfolio.x1.id,
        attested_by_label="t",
        outcome="confirmed",
        attested_at=datetime.now(UTC) - timedelta(days=370),
    )
    session.add(old)
    session.commit()
    assert _row(_cards(session), "X1").values["fresh"] == 0.5  # attested too long ago
    old.attested_at = datetime.now(UTC) - timedelta(days=10)
    session.commit()
    assert _row(_cards(session), "X1").values["fresh"] == 1.0
