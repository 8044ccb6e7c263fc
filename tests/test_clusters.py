"""Duplicate clusters: every member does the same job — chains split, cliques stay, decided and
sanctioned pairs never link — with names, costs, provinces and a replacing platform."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from registry.models import DuplicateWarning
from registry.services import review
from registry.services.clusters import find_clusters, portfolio_clusters, short_agency
from tests.conftest import OPERATOR, only_these_warnings


def warn(a, b, score: float = 0.8, disposition: str = "open", relation: str = "overlap", **extra: Any):
    return DuplicateWarning(
        system_a_id=min(a.id, b.id),
        system_b_id=max(a.id, b.id),
        score=score,
        relation=relation,
        components={},
        reasons=extra.pop("reasons", []),
        detector_version="t",
        disposition=disposition,
        **extra,
    )


@pytest.fixture
def systems(make_agency, make_system):
    """Systems A…F, each of its own province agency (so six agencies in six provinces)."""
    made = {}
    for letter, province in zip("ABCDEF", ("NAN", "HUE", "GLI", "THA", "HNI", "DNG"), strict=True):
        agency = make_agency(
            code=f"TU-{province}", name=f"Tỉnh ủy {province}", level="province", block="locality"
        )
        made[letter] = make_system(
            name=f"Phần mềm {letter}", owner_agency_id=agency.id, scope_level="province"
        )
    return made


def member_sets(session, min_size: int = 2) -> list[set[str]]:
    found = find_clusters(session, min_size=min_size, per_page=100)
    return sorted(({m.name[-1] for m in cluster.members} for cluster in found.items), key=sorted)


def test_a_chain_of_warnings_splits_instead_of_chaining(session, systems):
    a, b, c, d = (systems[x] for x in "ABCD")
    only_these_warnings(session, warn(a, b, 0.9), warn(b, c, 0.7), warn(c, d, 0.8))
    assert member_sets(session) == [{"A", "B"}, {"C", "D"}]
    assert member_sets(session, min_size=3) == []


def test_a_clique_stays_one_cluster(session, systems):
    clique = [systems[x] for x in "ABCD"]
    pairs = [
        warn(x, y, 0.75 + 0.01 * n)
        for n, (x, y) in enumerate((x, y) for i, x in enumerate(clique) for y in clique[i + 1 :])
    ]
    only_these_warnings(session, *pairs, warn(systems["D"], systems["E"], 0.7))
    assert member_sets(session) == [{"A", "B", "C", "D"}]
    cluster = find_clusters(session).items[0]
    assert (cluster.size, len(cluster.pairs)) == (4, 6)
    assert (cluster.min_score, cluster.best_score) == (0.75, pytest.approx(0.8))


@pytest.mark.parametrize("disposition", ["dismissed", "justified"])
def test_decided_pairs_do_not_link_and_keep_their_systems_apart(session, systems, disposition):
    a, b, c = (systems[x] for x in "ABC")
    only_these_warnings(session, warn(a, b, 0.9), warn(b, c, 0.9), warn(a, c, 0.95, disposition))
    found = member_sets(session)
    assert {"A", "B", "C"} not in found
    assert not any({"A", "C"} <= group for group in found)


def test_what_counts_as_a_link(session, systems):
    # confirmed links whatever its score; open below the threshold, or reuse, does not
    a, b, c, d, e, f = (systems[x] for x in "ABCDEF")
    only_these_warnings(
        session,
        warn(a, b, 0.9),
        warn(b, c, 0.9),
        warn(a, c, 0.4, "confirmed"),
        warn(d, e, 0.9),
        warn(e, f, 0.9),
        warn(d, f, 0.55),
        warn(a, d, 0.9, relation="reuse"),
    )
    assert member_sets(session) == [{"A", "B", "C"}, {"D", "E"}]
    cluster = find_clusters(session).items[0]
    assert cluster.confirmed == 1
    assert cluster.min_score == 0.4


def test_a_pair_dismissed_through_the_review_unlinks_at_once(session, systems):
    a, b, c = (systems[x] for x in "ABC")
    only_these_warnings(session, warn(a, b), warn(b, c), warn(a, c))
    assert member_sets(session) == [{"A", "B", "C"}]
    warning = session.scalars(
        select(DuplicateWarning).where(
            col(DuplicateWarning.system_a_id) == min(a.id, c.id),
            col(DuplicateWarning.system_b_id) == max(a.id, c.id),
        )
    ).one()
    review.dispose_warning(
        session,
        warning.id,
        disposition="dismissed",
        reason="Khác chức năng",
        actor=OPERATOR,
        expected_version=warning.version,
    )
    session.commit()
    assert {"A", "B", "C"} not in member_sets(session)


def test_the_result_is_cached_until_a_write_moves_the_watermark(session, systems):
    a, b, c = (systems[x] for x in "ABC")
    only_these_warnings(session, warn(a, b), warn(b, c), warn(a, c))
    first = portfolio_clusters(session)
    assert portfolio_clusters(session) is first
    session.add(warn(a, systems["D"]))
    session.commit()
    assert portfolio_clusters(session) is not first


def test_sanctioned_deployments_of_one_platform_are_reuse_not_duplication(
    session, make_agency, make_system, make_capability, systems
):
    documents = make_capability(
        code="document_management", name="Quản lý văn bản", name_en="Document management"
    )
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    platform = make_system(
        name="Hệ thống điều hành tác nghiệp",
        is_shared_platform=True,
        status="in_operation",
        owner_agency_id=central.id,
        capability_ids=[documents.id],
    )
    deployments = [
        make_system(name=f"Triển khai {n}", instance_of_id=platform.id, owner_agency_id=central.id)
        for n in range(3)
    ]
    a, b, c = (systems[x] for x in "ABC")
    d1, d2, d3 = deployments
    only_these_warnings(
        session,
        # the deployments look alike, and like the platform: none of that is duplication
        warn(d1, d2, 0.99),
        warn(d2, d3, 0.99),
        warn(d1, d3, 0.99),
        *(warn(platform, d, 0.99) for d in deployments),
        # three home-built copies that all overlap, and one of them overlaps a deployment
        warn(a, b),
        warn(b, c),
        warn(a, c),
        warn(a, d1, 0.9),
        warn(b, platform, 0.85),
    )
    found = find_clusters(session, min_size=2).items
    assert [{m.code for m in cluster.members} for cluster in found] == [{a.code, b.code, c.code}]
    assert found[0].platform is not None
    assert (found[0].platform.code, found[0].platform_basis) == (platform.code, "warning")


def test_a_platform_providing_the_capability_is_offered_when_no_warning_points_at_one(
    session, make_agency, make_system, make_capability
):
    hosting = make_capability(code="hosting_compute", name="Hạ tầng máy chủ", name_en="Hosting and compute")
    other = make_capability(code="gis", name="Bản đồ số", name_en="GIS")
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    make_system(
        name="Bản đồ dùng chung",
        is_shared_platform=True,
        status="in_operation",
        capability_ids=[other.id],
        owner_agency_id=central.id,
    )
    centre = make_system(
        name="Trung tâm dữ liệu các cơ quan Đảng",
        is_shared_platform=True,
        status="in_operation",
        capability_ids=[hosting.id],
        owner_agency_id=central.id,
    )
    copies = [
        make_system(
            name=f"Trung tâm dữ liệu riêng {n}", capability_ids=[hosting.id], owner_agency_id=central.id
        )
        for n in range(3)
    ]
    only_these_warnings(
        session, warn(copies[0], copies[1]), warn(copies[1], copies[2]), warn(copies[0], copies[2])
    )
    cluster = find_clusters(session).items[0]
    assert cluster.platform is not None
    assert (cluster.platform.code, cluster.platform_basis) == (centre.code, "capability")


def test_a_cluster_is_named_by_the_capability_its_members_share(
    session, make_system, make_capability, make_agency
):
    handbook = make_capability(code="mobile_handbook", name="Sổ tay điện tử", name_en="Mobile handbook")
    records = make_capability(
        code="party_member_records", name="Hồ sơ đảng viên", name_en="Party-member records"
    )
    messaging = make_capability(code="messaging", name="Nhắn tin", name_en="Messaging")
    owner = make_agency(code="TU-X", name="Tỉnh ủy X", level="province", block="locality")
    # every member declares the handbook; two of three also declare records, one messaging
    members = [
        make_system(
            name="Sổ tay đảng viên 1", capability_ids=[handbook.id, records.id], owner_agency_id=owner.id
        ),
        make_system(
            name="Sổ tay đảng viên 2", capability_ids=[handbook.id, records.id], owner_agency_id=owner.id
        ),
        make_system(
            name="Sổ tay đảng viên 3", capability_ids=[handbook.id, messaging.id], owner_agency_id=owner.id
        ),
    ]
    x, y, z = members
    only_these_warnings(session, warn(x, y), warn(y, z), warn(x, z))
    found = find_clusters(session)
    cluster = found.items[0]
    assert cluster.capability == "mobile_handbook"
    assert found.clusters.name_of(cluster, "vi") == "Sổ tay điện tử"
    assert found.clusters.name_of(cluster, "en") == "Mobile handbook"
    assert find_clusters(session, capability="party_member_records").total == 0
    assert find_clusters(session, capability="mobile_handbook").total == 1


def test_without_a_shared_capability_the_name_comes_from_the_function_or_the_shared_words(
    session, make_system, make_agency
):
    owner = make_agency(code="TU-X", name="Tỉnh ủy X", level="province", block="locality")
    offices = [
        make_system(name=name, owner_agency_id=owner.id)
        for name in ("iOffice Huế", "eDoc Gia Lai", "vOffice Sơn La")
    ]
    others = [make_system(name=f"Ứng dụng Zetabase {n}", owner_agency_id=owner.id) for n in range(3)]
    reasons = [{"code": "text", "terms": ["zetabase"]}]
    only_these_warnings(
        session,
        *(warn(x, y) for i, x in enumerate(offices) for y in offices[i + 1 :]),
        *(warn(x, y, reasons=reasons) for i, x in enumerate(others) for y in others[i + 1 :]),
    )
    found = find_clusters(session)
    names = sorted((c.naming.kind, found.clusters.name_of(c, "vi")) for c in found.items)
    assert names == [("function", "quản lý văn bản và điều hành"), ("terms", "zetabase")]


def test_agencies_provinces_and_cost_add_up(session, make_agency, make_system):
    province = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    committee = make_agency(
        code="UBND-NAN",
        name="Ủy ban nhân dân tỉnh Nghệ An",
        level="province",
        block="locality",
        parent_id=province.id,
    )
    commune = make_agency(
        code="X-VINH", name="Đảng ủy phường Vinh", level="commune", block="locality", parent_id=province.id
    )
    other = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    central = make_agency(code="VPTW", name="Văn phòng Trung ương Đảng")
    owners_and_costs = [
        (province, 1_200_000_000),
        (committee, 300_000_000),
        (commune, None),
        (commune, 45_000_000),
        (other, 5_000_000_000),
        (central, 10_000_000_000),
    ]
    made = [
        make_system(name=f"Phần mềm {n}", owner_agency_id=owner.id, estimated_cost_vnd=cost)
        for n, (owner, cost) in enumerate(owners_and_costs)
    ]
    only_these_warnings(session, *(warn(x, y) for i, x in enumerate(made) for y in made[i + 1 :]))
    cluster = find_clusters(session).items[0]
    assert cluster.size == 6
    assert {p.code for p in cluster.agencies} == {"TU-NAN", "UBND-NAN", "X-VINH", "TU-HUE", "VPTW"}
    # the People's Committee and the commune are in Nghệ An; the central office is in none
    assert {p.code for p in cluster.provinces} == {"TU-NAN", "TU-HUE"}
    assert cluster.total_cost_vnd == 16_545_000_000
    assert cluster.cost_unknown == 1
    assert find_clusters(session, province="TU-HUE").total == 1
    assert find_clusters(session, province="TU-XYZ").total == 0


def rewrite_warnings(session, *warnings: DuplicateWarning) -> None:
    """Replace the warnings and audit it, as every write through the services is audited (the
    watermark relies on it: SQLite may give the new rows the old ids)."""
    from registry.services import audit

    only_these_warnings(session, *warnings)
    audit.record(session, OPERATOR, "overlap.scan", object_type="portfolio", object_id="all")
    session.commit()


def test_the_identifier_is_stable_for_the_same_members(session, systems):
    a, b, c = (systems[x] for x in "ABC")
    rewrite_warnings(session, warn(a, b, 0.7), warn(b, c, 0.8), warn(a, c, 0.9))
    first = find_clusters(session).items[0].key
    rewrite_warnings(session, warn(a, c, 0.61), warn(b, c, 0.99), warn(a, b, 0.75, "confirmed"))
    assert find_clusters(session).items[0].key == first
    rewrite_warnings(session, warn(a, b), warn(b, systems["D"]), warn(a, systems["D"]))
    assert find_clusters(session).items[0].key != first


def test_short_agency_names_for_the_drawing():
    assert short_agency("Tỉnh ủy Bắc Ninh") == "Bắc Ninh"
    assert short_agency("Ủy ban nhân dân thành phố Đà Nẵng") == "Đà Nẵng"
    assert short_agency("Đảng ủy phường Sài Gòn") == "phường Sài Gòn"
    assert short_agency("Văn phòng Trung ương Đảng và các ban ngành") == "Văn phòng Trung ư…"


# --- the page and the API ---------------------------------------------------------------------


@pytest.fixture
def clustered(session, make_agency, make_system, make_capability):
    feedback = make_capability(
        code="citizen_feedback", name="Phản ánh hiện trường", name_en="Citizen feedback"
    )
    made = []
    for code, place, cost in (
        ("TU-HNI", "Hà Nội", 260_000_000),
        ("TU-DNG", "Đà Nẵng", 140_000_000),
        ("TU-HPG", "Hải Phòng", None),
    ):
        agency = make_agency(code=code, name=f"Thành ủy {place}", level="province", block="locality")
        made.append(
            make_system(
                name=f"Ứng dụng phản ánh hiện trường {place}",
                owner_agency_id=agency.id,
                scope_level="province",
                estimated_cost_vnd=cost,
                capability_ids=[feedback.id],
            )
        )
    x, y, z = made
    only_these_warnings(session, warn(x, y, 0.9, "confirmed"), warn(y, z, 0.8), warn(x, z, 0.7))
    return made


def test_the_page_shows_each_cluster_as_a_drawing_and_a_table(client, session, clustered):
    page = client.get("/review/clusters")
    assert page.status_code == 200
    html = page.text
    assert "Phản ánh hiện trường" in html
    assert "3 cơ quan tại 3 tỉnh đã xây dựng cùng một hệ thống" in html
    assert "400.000.000\xa0₫" in html  # the total, as Vietnamese writes money
    assert html.count("<circle") == 3 and html.count("<line") == 3
    assert 'class="edge-confirmed"' in html
    assert "<caption" in html and "Hà Nội" in html
    warning_ids = list(session.scalars(select(col(DuplicateWarning.id))))
    assert len(warning_ids) == 3 and all(f"/compare/{i}" in html for i in warning_ids)
    english = client.get("/review/clusters?lang=en").text
    assert "Citizen feedback" in english
    assert "₫400,000,000" in english


def test_the_page_filters_and_pages(client, clustered):
    assert 'data-size="3"' in client.get("/review/clusters?province=TU-DNG").text
    assert 'data-size="3"' not in client.get("/review/clusters?province=TU-NOPE").text
    assert 'data-size="3"' not in client.get("/review/clusters?min_size=5").text
    assert 'data-size="3"' not in client.get("/review/clusters?capability=gis").text
    assert 'data-size="3"' not in client.get("/review/clusters?page=2").text


def test_the_api_lists_clusters_with_their_members_cost_and_pairs(client, clustered):
    answer = client.get("/api/v1/clusters")
    assert answer.status_code == 200
    body = answer.get_json()
    assert (body["total"], body["page"], body["pages"]) == (1, 1, 1)
    item = body["items"][0]
    assert item["id"].startswith("C-")
    assert (item["name"], item["capability"], item["named_by"], item["size"]) == (
        "Phản ánh hiện trường",
        "citizen_feedback",
        "capability",
        3,
    )
    assert item["total_cost_vnd"] == 400_000_000 and item["cost_unknown"] == 1
    assert {p["code"] for p in item["provinces"]} == {"TU-HNI", "TU-DNG", "TU-HPG"}
    assert len(item["agencies"]) == 3
    assert {m["code"] for m in item["members"]} == {s.code for s in clustered}
    hanoi = next(m for m in item["members"] if m["province"]["code"] == "TU-HNI")
    assert hanoi["cost_vnd"] == 260_000_000 and hanoi["agency"] == {
        "code": "TU-HNI",
        "name": "Thành ủy Hà Nội",
    }
    assert (item["best_score"], item["min_score"], item["confirmed_pairs"]) == (0.9, 0.7, 1)
    assert [p["score"] for p in item["pairs"]] == [0.9, 0.8, 0.7]
    assert item["platform"] is None
    english = client.get("/api/v1/clusters?lang=en").get_json()
    assert english["items"][0]["name"] == "Citizen feedback"


@pytest.mark.parametrize(
    ("query", "total"),
    [
        ("capability=citizen_feedback", 1),
        ("capability=gis", 0),
        ("province=TU-DNG", 1),
        ("min_size=4", 0),
        ("min_size=2", 1),
    ],
)
def test_the_api_filters(client, clustered, query, total):
    assert client.get(f"/api/v1/clusters?{query}").get_json()["total"] == total


@pytest.mark.parametrize("query", ["min_size=1", "per_page=7", "page=0"])
def test_the_api_refuses_bad_parameters(client, clustered, query):
    answer = client.get(f"/api/v1/clusters?{query}")
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_request"


def test_the_api_asks_who_is_calling(anon_client, client_for, make_agency, clustered):
    assert anon_client.get("/api/v1/clusters").status_code == 401
    agency = make_agency(code="TU-SUB", name="Tỉnh ủy Sub", level="province", block="locality")
    for role in ("submitter", "reviewer", "auditor"):
        extra = {"agency_id": agency.id} if role == "submitter" else {}
        assert client_for(role, **extra).get("/api/v1/clusters").get_json()["total"] == 1


def test_the_openapi_document_describes_the_clusters(anon_client):
    document = anon_client.get("/api/v1/openapi.json").get_json()
    listing = document["paths"]["/api/v1/clusters"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {
        "capability",
        "province",
        "min_size",
        "page",
        "per_page",
    }
    schema = document["components"]["schemas"]["Cluster"]
    assert {
        "id",
        "name",
        "size",
        "members",
        "agencies",
        "provinces",
        "total_cost_vnd",
        "min_score",
        "platform",
    } <= set(schema["properties"])


def test_the_workers_of_one_machine_share_one_computation(app, session, systems, monkeypatch):
    from sqlmodel import Session

    from registry.db import get_engine
    from registry.factory import create_app
    from registry.services import clusters as service

    a, b, c = (systems[x] for x in "ABC")
    only_these_warnings(session, warn(a, b), warn(b, c), warn(a, c))
    computed = []
    real = service.compute_clusters
    monkeypatch.setattr(service, "compute_clusters", lambda *args: computed.append(1) or real(*args))
    other = create_app(dict(app.config))  # another worker: its own memory, the same instance folder
    other.instance_path = app.instance_path
    first = portfolio_clusters(session)
    with other.app_context(), Session(get_engine(other)) as other_session:
        second = portfolio_clusters(other_session)
    get_engine(other).dispose()
    assert computed == [1]
    assert second is not first and [c.key for c in second.clusters] == [c.key for c in first.clusters]
    session.add(warn(a, systems["D"]))
    session.commit()
    portfolio_clusters(session)
    assert computed == [1, 1]


def test_the_drawing_places_every_member_and_widens_stronger_links():
    from registry.services.clusters import Cluster, Member, Naming, Pair, Place, drawing

    def cluster(size: int) -> Cluster:
        members = tuple(
            Member(
                n, f"S{n}", f"System {n}", f"Place {n}", "draft", Place(f"A{n}", f"Agency {n}"), None, None
            )
            for n in range(size)
        )
        pairs = tuple(
            Pair(n, f"S{a}", f"S{b}", 0.6 + 0.4 * ((a + b) % 2), False)
            for n, (a, b) in enumerate((a, b) for a in range(size) for b in range(a + 1, size))
        )
        return Cluster("C-x", Naming("none"), members, pairs, (), (), 0, size, None, None)

    small = drawing(cluster(5))
    assert len(small["nodes"]) == 5 and len(small["edges"]) == 10 and small["hidden"] == 0
    for node in small["nodes"]:
        assert 0 < node["x"] < small["width"] and 0 < node["y"] < small["height"]
    widths = {edge["pair"].score: edge["width"] for edge in small["edges"]}
    assert widths[1.0] > widths[0.6]
    large = drawing(cluster(30))
    assert (len(large["nodes"]), large["hidden"]) == (24, 6)
    assert all(edge["a"].code in {n["member"].code for n in large["nodes"]} for edge in large["edges"])


def test_after_a_write_readers_get_the_previous_clusters_while_one_refresh_runs(app, session, systems):
    """At national scale a computation takes seconds: a write must not make the next reader
    wait. The previous result is served, marked as not current, and one background refresh
    replaces it."""
    from registry.services import clusters as service

    app.config["CLUSTERS_REFRESH_IN_BACKGROUND"] = True
    a, b, c, d = (systems[x] for x in "ABCD")
    only_these_warnings(session, warn(a, b), warn(b, c), warn(a, c))
    first = portfolio_clusters(session)
    session.add_all([warn(a, d), warn(b, d), warn(c, d)])
    session.commit()
    served = portfolio_clusters(session)
    assert served is first and not service.is_current(session, served)
    app.extensions[service.CACHE_KEY]["refresh"].join(timeout=60)
    refreshed = portfolio_clusters(session)
    assert service.is_current(session, refreshed)
    assert {"A", "B", "C", "D"} in member_sets(session)
