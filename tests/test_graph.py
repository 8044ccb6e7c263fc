"""The dependency neighbourhood: hops, directions and kinds, collapsing when over the cap, the
R6/R7 overlays, the API and the explorer's pages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from registry.errors import NotFoundError, ValidationError
from registry.services import graph
from registry.services.dependencies import add_dependency
from registry.services.graph import neighbourhood_graph
from tests.conftest import OPERATOR


def depend(session, source, target, kind="data_exchange"):
    add_dependency(session, source, actor=OPERATOR, target_code=target.code, kind=kind)
    session.commit()


def codes(view) -> set[str]:
    return {n["code"] for n in view.nodes if n["type"] == "system"}


def relations(view) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["kind"]) for e in view.edges}


@pytest.fixture
def chain(session, make_system):
    """a → b → c → d (each depends on the next), e → a, and a stranger nobody touches."""
    a, b, c, d, e, stranger = (
        make_system(name=f"Hệ thống {letter.upper()}") for letter in ("a", "b", "c", "d", "e", "x")
    )
    depend(session, a, b, "consumes_api")
    depend(session, b, c, "authentication")
    depend(session, c, d, "hosted_on")
    depend(session, e, a, "data_exchange")
    return SimpleNamespace(a=a, b=b, c=c, d=d, e=e, stranger=stranger)


def test_one_hop_keeps_direction_and_kind(session, chain):
    view = neighbourhood_graph(session, chain.a.code, hops=1)
    assert codes(view) == {chain.a.code, chain.b.code, chain.e.code}
    assert relations(view) == {
        (chain.a.code, chain.b.code, "consumes_api"),
        (chain.e.code, chain.a.code, "data_exchange"),
    }
    focus = view.nodes[0]
    assert focus["focus"] and focus["code"] == chain.a.code and focus["hops"] == 0
    assert focus["label"] == "Hệ thống A" and focus["degree"] == 2
    assert not view.truncated and view.collapsed == []


@pytest.mark.parametrize(("hops", "reached"), [(1, "abe"), (2, "abce"), (3, "abcde")])
def test_hops_reach_further_each_time(session, chain, hops, reached):
    view = neighbourhood_graph(session, chain.a.code.lower(), hops=hops)
    assert codes(view) == {getattr(chain, letter).code for letter in reached}
    distance = {n["code"]: n["hops"] for n in view.nodes}
    assert distance[chain.b.code] == 1 and distance.get(chain.c.code, 2) == 2
    assert chain.stranger.code not in distance


def test_relations_between_neighbours_are_drawn_too(session, chain):
    depend(session, chain.e, chain.b, "replaces")
    view = neighbourhood_graph(session, chain.a.code, hops=1)
    assert (chain.e.code, chain.b.code, "replaces") in relations(view)


def test_deployments_point_at_their_platform(session, make_system):
    platform = make_system(name="Nền tảng họp trực tuyến", is_shared_platform=True, status="in_operation")
    deployment = make_system(name="Họp trực tuyến tỉnh Nghệ An", instance_of_id=platform.id)
    view = neighbourhood_graph(session, platform.code, hops=1)
    assert relations(view) == {(deployment.code, platform.code, graph.INSTANCE_OF)}
    assert next(n for n in view.nodes if n["code"] == platform.code)["is_shared_platform"] is True


@pytest.fixture
def busy_platform(session, make_agency, make_system):
    """A shared platform with 9 consumers: 4 of Nghệ An's office, 3 of one of its communes,
    2 of Hà Nội; and one system the platform itself is hosted on."""
    nghe_an = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    commune = make_agency(
        code="X-HN", name="Đảng ủy xã Hưng Nguyên", level="commune", block="locality", parent_id=nghe_an.id
    )
    ha_noi = make_agency(code="TU-HN", name="Thành ủy Hà Nội", level="province", block="locality")
    platform = make_system(name="VNeID", is_shared_platform=True, status="in_operation")
    host = make_system(name="Trung tâm dữ liệu quốc gia", is_shared_platform=True, status="in_operation")
    depend(session, platform, host, "hosted_on")
    consumers = []
    for agency, n in ((nghe_an, 4), (commune, 3), (ha_noi, 2)):
        for i in range(n):
            system = make_system(
                name=f"Dịch vụ {i} của {agency.name}", owner_agency_id=agency.id, scope_level=agency.level
            )
            depend(session, system, platform, "authentication")
            consumers.append(system)
    return SimpleNamespace(platform=platform, host=host, consumers=consumers, nghe_an=nghe_an, ha_noi=ha_noi)


CAPS = [
    (12, None, 0),  # everything fits
    (6, "agency", 3),  # 4 + 3 + 2 consumers under three agencies
    (4, "province", 2),  # the commune's consumers join Nghệ An's
    (3, "all", 1),  # no room for a group per level (province, commune)
]


@pytest.mark.parametrize(
    ("fetch_limit", "cap", "by", "groups"),
    [(200, *case) for case in CAPS]
    # A system too busy to read singly is always counted by group, even when it would fit.
    + [(2, *case) for case in CAPS if case[1] is not None],
)
def test_over_the_cap_the_consumers_are_collapsed(
    session, busy_platform, monkeypatch, fetch_limit, cap, by, groups
):
    monkeypatch.setattr(graph, "FETCH_LIMIT", fetch_limit)
    view = neighbourhood_graph(session, busy_platform.platform.code, hops=1, cap=cap)
    assert len(view.nodes) <= cap
    assert busy_platform.host.code in codes(view)  # the few outgoing links are shown singly
    grouped = [n for n in view.nodes if n["type"] == "group"]
    singles = codes(view) & {c.code for c in busy_platform.consumers}
    assert sum(n["count"] for n in grouped) + len(singles) == 9
    if by is None:
        assert grouped == [] and not view.truncated
        return
    assert view.truncated
    assert {entry["by"] for entry in view.collapsed} == {by} and len(grouped) == groups
    assert all(entry["via"] == busy_platform.platform.code for entry in view.collapsed)
    for node in grouped:
        edge = next(e for e in view.edges if e["source"] == node["id"])
        assert edge["target"] == busy_platform.platform.code and edge["kind"] == "authentication"
        assert edge["count"] == node["count"] and edge["kinds"] == {"authentication": node["count"]}
        assert not node["label"].strip().isdigit()
    if by == "agency":
        counts = {n["group"]["agency"]: n["count"] for n in grouped}
        assert counts == {"TU-NAN": 4, "X-HN": 3, "TU-HN": 2}
        assert any("Tỉnh ủy Nghệ An" in n["label"] for n in grouped)
    if by == "province":
        assert {n["group"]["agency"]: n["count"] for n in grouped} == {"TU-NAN": 7, "TU-HN": 2}


def test_three_hops_never_exceed_the_cap(session, busy_platform):
    depend(session, busy_platform.host, busy_platform.consumers[0], "data_exchange")
    for cap in (3, 5, 8):
        view = neighbourhood_graph(session, busy_platform.consumers[-1].code, hops=3, cap=cap)
        assert len(view.nodes) <= cap
        assert view.truncated
        node_ids = {n["id"] for n in view.nodes}
        assert all(e["source"] in node_ids and e["target"] in node_ids for e in view.edges)


def test_the_small_picture_counts_a_busy_platform_from_the_indexes(session, busy_platform, monkeypatch):
    monkeypatch.setattr(graph, "FETCH_LIMIT", 2)
    view = neighbourhood_graph(session, busy_platform.platform.code, hops=1, cap=4, coarse=True)
    grouped = [n for n in view.nodes if n["type"] == "group"]
    assert [(n["count"], n["group"]["by"]) for n in grouped] == [(9, "all")]
    assert busy_platform.host.code in codes(view)
    assert {e["kind"] for e in view.edges if e["source"] == grouped[0]["id"]} == {graph.VARIOUS}


def test_a_busy_neighbour_is_counted_without_its_systems(session, busy_platform, monkeypatch):
    """Two hops from a consumer, the platform's other consumers are one group of 8."""
    monkeypatch.setattr(graph, "FETCH_LIMIT", 2)
    consumer = busy_platform.consumers[0]
    view = neighbourhood_graph(session, consumer.code, hops=2, cap=20)
    assert codes(view) == {consumer.code, busy_platform.platform.code, busy_platform.host.code}
    grouped = [n for n in view.nodes if n["type"] == "group"]
    assert [(n["count"], n["via"], n["hops"]) for n in grouped] == [(8, busy_platform.platform.code, 2)]


def test_overlays_come_from_rules_r6_and_r7(session, make_agency, make_capability, make_system):
    documents = make_capability(code="document_management")
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    platform = make_system(
        name="Hệ thống điều hành tác nghiệp",
        is_shared_platform=True,
        status="in_operation",
        capability_ids=[documents.id],
    )
    local = make_system(
        name="Phần mềm quản lý văn bản Thanh Hóa",
        owner_agency_id=province.id,
        scope_level="province",
        capability_ids=[documents.id],
    )
    lonely = make_system(name="Cổng thông tin riêng", owner_agency_id=province.id, scope_level="province")
    depend(session, lonely, local, "data_exchange")
    view = neighbourhood_graph(session, local.code, hops=1)
    flags = {
        n["code"]: (n["isolated"], n["duplicates_central"], n["duplicates_platform"]) for n in view.nodes
    }
    assert flags[local.code] == (True, True, platform.code)
    assert flags[lonely.code] == (True, False, None)
    depend(session, local, platform, "authentication")
    view = neighbourhood_graph(session, local.code, hops=1)
    flags = {n["code"]: (n["isolated"], n["duplicates_central"]) for n in view.nodes}
    assert flags[local.code] == (False, True)
    assert flags[platform.code] == (False, False)


@pytest.mark.parametrize(
    ("name", "limit", "label"),
    [
        ("VNeID", 48, "VNeID"),
        ("Hệ thống thông tin giải quyết thủ tục hành chính cấp tỉnh", 30, "Hệ thống thông tin giải quyết…"),
        ("Hệ thống thông tin giải quyết thủ tục hành chính cấp tỉnh", 28, "Hệ thống thông tin giải…"),
        ("Cơsởdữliệuquốcgiavềdâncư", 10, "Cơsởdữliệ…"),
    ],
)
def test_labels_are_names_cut_at_a_word(name, limit, label):
    assert graph.short_label(name, limit) == label


def test_an_unknown_code_or_bad_hops_are_refused(session, chain):
    with pytest.raises(NotFoundError):
        neighbourhood_graph(session, "HTTT-1999-000001")
    for hops in (0, 4, "two"):
        with pytest.raises(ValidationError) as exc:
            neighbourhood_graph(session, chain.a.code, hops=hops)  # type: ignore[arg-type]
        assert "hops" in exc.value.errors
    assert graph.parse_hops(None) == graph.DEFAULT_HOPS == 2
    assert graph.parse_hops("3") == 3


# --- API -------------------------------------------------------------------------------------


def test_the_api_answers_the_documented_shape(client, chain):
    response = client.get(f"/api/v1/graph?focus={chain.b.code}&hops=1")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"focus", "hops", "cap", "truncated", "collapsed", "unexpanded", "nodes", "edges"}
    assert body["focus"] == chain.b.code and body["hops"] == 1 and body["truncated"] is False
    assert {n["id"] for n in body["nodes"]} == {chain.a.code, chain.b.code, chain.c.code}
    assert {(e["source"], e["target"], e["kind"]) for e in body["edges"]} == {
        (chain.a.code, chain.b.code, "consumes_api"),
        (chain.b.code, chain.c.code, "authentication"),
    }
    node = next(n for n in body["nodes"] if n["id"] == chain.c.code)
    assert node["agency"] == "OWNER" and node["agency_level"] == "central" and node["status"] == "draft"


def test_the_api_default_is_two_hops(client, chain):
    body = client.get(f"/api/v1/graph?focus={chain.a.code}").get_json()
    assert body["hops"] == 2 and chain.c.code in {n["id"] for n in body["nodes"]}


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("focus=HTTT-1999-000001", 404, None),
        ("focus={a}&hops=0", 422, "hops"),
        ("focus={a}&hops=4", 422, "hops"),
        ("focus={a}&hops=two", 422, "hops"),
        ("hops=1", 422, "focus"),
    ],
)
def test_the_api_errors_say_what_is_wrong(client, chain, query, status, field):
    response = client.get("/api/v1/graph?" + query.format(a=chain.a.code))
    assert response.status_code == status
    error = response.get_json()["error"]
    if field:
        assert error["code"] == "invalid" and field in error["fields"]
    else:
        assert error["code"] == "not_found" and "HTTT-1999-000001" in error["message"]


def test_the_api_needs_a_signed_in_reader(anon_client, client_for, chain):
    assert anon_client.get(f"/api/v1/graph?focus={chain.a.code}").status_code == 401
    for role in ("submitter", "reviewer", "auditor"):
        agency = chain.a.owner_agency_id if role == "submitter" else None
        assert (
            client_for(role, agency_id=agency).get(f"/api/v1/graph?focus={chain.a.code}").status_code == 200
        )


def test_the_api_is_in_the_openapi_document(anon_client):
    document = anon_client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/graph"]["get"]
    assert operation["x-permission"] == "view_portfolio"
    assert {p["name"] for p in operation["parameters"]} == {"focus", "hops"}
    assert {"200", "401", "403", "404", "422"} <= set(operation["responses"])
    assert set(document["components"]["schemas"]["Graph"]["properties"]) >= {"nodes", "edges", "collapsed"}


# --- pages -----------------------------------------------------------------------------------


def test_the_explorer_lists_the_neighbourhood_without_javascript(client, chain):
    html = client.get(f"/graph/?focus={chain.a.code}&hops=2").get_data(as_text=True)
    assert 'data-graph="full"' in html and 'type="application/json"' in html
    for system in (chain.a, chain.b, chain.c, chain.e):
        assert system.code in html
    assert chain.d.code not in html
    assert f"/graph/?focus={chain.b.code}&amp;hops=2" in html  # "centre here" works without JS


def test_the_explorer_search_finds_systems_and_jumps_to_a_code(client, chain):
    response = client.get(f"/graph/?q={chain.c.code.lower()}")
    assert response.status_code == 302 and f"focus={chain.c.code}" in response.headers["Location"]
    html = client.get("/graph/?q=He thong").get_data(as_text=True)
    assert "data-found" in html and chain.stranger.code in html


def test_the_explorer_start_lists_isolated_systems(client, chain):
    html = client.get("/graph/").get_data(as_text=True)
    assert 'data-flagged="h-isolated"' in html and chain.stranger.code in html


def test_the_explorer_refuses_an_unknown_code(client):
    assert client.get("/graph/?focus=HTTT-1999-000001").status_code == 404


def test_a_system_page_shows_its_small_picture(client, chain):
    html = client.get(f"/systems/{chain.b.code}").get_data(as_text=True)
    assert 'data-graph="small"' in html
    assert f"/graph/?focus={chain.b.code}&amp;hops=2" in html
