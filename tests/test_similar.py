"""The live panel: POST /api/v1/similar, the no-JavaScript check, and "reuse this instead"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from registry.models import Dependency, InformationSystem
from registry.services.similar import SimilarQuery
from tests.test_overlaps import documents  # noqa: F401 - fixture


@pytest.fixture
def platform(make_system, documents):  # noqa: F811
    return make_system(
        name="Hệ thống điều hành tác nghiệp dùng chung",
        description="Quản lý văn bản đến, văn bản đi, hồ sơ công việc dùng chung cho các cơ quan Đảng.",
        status="in_operation",
        is_shared_platform=True,
        capability_ids=[documents[0].capabilities[0].id],
    )


def test_the_api_ranks_registered_systems_against_a_proposal(client, documents, platform):  # noqa: F811
    first = documents[0]
    response = client.post(
        "/api/v1/similar",
        json={
            "name": "Phần mềm quản lý văn bản",
            "description": "Văn bản đến, văn bản đi, hồ sơ công việc",
            "k": 3,
        },
    )
    assert response.status_code == 200
    matches = response.get_json()["matches"]
    assert 1 <= len(matches) <= 3
    codes = [m["code"] for m in matches]
    assert first.code in codes
    best = matches[0]
    assert set(best) >= {"code", "name", "owner", "score", "relation", "reasons", "url", "is_shared_platform"}
    assert 0 <= best["score"] <= 1 and best["url"].startswith("/systems/")
    assert any(
        "Cả hai bản mô tả đều nói về" in r or "Tên hai hệ thống gần giống" in r for r in best["reasons"]
    )
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)


@pytest.mark.parametrize("body", [None, [], "text", {"name": 5}, {"name": "ab"}, {"description": " "}])
def test_the_api_answers_bad_or_empty_input_without_failing(client, documents, body):  # noqa: F811
    response = (
        client.post("/api/v1/similar", json=body)
        if body is not None
        else client.post("/api/v1/similar", data="x")
    )
    if isinstance(body, dict):
        assert response.status_code == 200 and response.get_json() == {"matches": [], "too_short": True}
    else:
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_an_edited_system_is_not_similar_to_itself(client, documents):  # noqa: F811
    first = documents[0]
    response = client.post(
        "/api/v1/similar", json={"name": first.name, "description": first.description, "system_id": first.id}
    )
    assert first.code not in [m["code"] for m in response.get_json()["matches"]]


def test_query_parsing_is_lenient_and_bounded():
    query = SimilarQuery.from_mapping(
        {
            "name": "  Tên  ",
            "capability_ids": ["1", "x", 2],
            "scope_level": "galaxy",
            "description": "m" * 10_000,
        }
    )
    assert query.name == "Tên" and query.capability_ids == [1, 2] and query.scope_level is None
    assert len(query.description) == 4000


def test_the_form_checks_for_overlaps_without_javascript(client, documents, make_agency, session):  # noqa: F811
    owner = make_agency(code="TU-GLI", name="Tỉnh ủy Gia Lai", level="province", block="locality")
    response = client.post(
        "/systems/new",
        data={
            "name": "Phần mềm quản lý văn bản Tỉnh ủy Gia Lai",
            "description": "Văn bản đến, văn bản đi.",
            "status": "draft",
            "scope_level": "province",
            "owner_agency_id": owner.id,
            "check": "1",
        },
    )
    assert response.status_code == 200
    assert documents[0].name in response.text and "data-similar-item" in response.text
    assert (
        session.scalar(select(InformationSystem).where(InformationSystem.owner_agency_id == owner.id)) is None
    )


def test_reusing_a_platform_makes_the_record_a_deployment(client, documents, platform, make_agency, session):  # noqa: F811
    owner = make_agency(code="TU-GLI", name="Tỉnh ủy Gia Lai", level="province", block="locality")
    data = {
        "name": "Văn phòng điện tử Tỉnh ủy Gia Lai",
        "description": "Văn bản đến, văn bản đi.",
        "status": "draft",
        "scope_level": "province",
        "owner_agency_id": owner.id,
    }
    page = client.post("/systems/new", data={**data, "reuse_code": platform.code})
    assert "data-reuse-notice" in page.text
    assert f'<option selected value="{platform.id}">' in page.text
    saved = client.post("/systems/new", data={**data, "instance_of_id": platform.id})
    assert saved.status_code == 302
    system = session.scalar(select(InformationSystem).where(InformationSystem.owner_agency_id == owner.id))
    assert system.instance_of_id == platform.id


def test_reusing_another_system_is_recorded_as_a_dependency(client, documents, make_agency, session):  # noqa: F811
    first = documents[0]
    owner = make_agency(code="TU-GLI", name="Tỉnh ủy Gia Lai", level="province", block="locality")
    data = {
        "name": "Dùng phần mềm văn bản của Nghệ An",
        "description": "Văn bản đến, văn bản đi.",
        "status": "draft",
        "scope_level": "province",
        "owner_agency_id": owner.id,
    }
    page = client.post("/systems/new", data={**data, "reuse_code": first.code})
    assert f'name="reuse_of" type="hidden" value="{first.code}"' in page.text
    assert client.post("/systems/new", data={**data, "reuse_of": first.code}).status_code == 302
    system = session.scalar(select(InformationSystem).where(InformationSystem.owner_agency_id == owner.id))
    dependency = session.scalar(select(Dependency).where(Dependency.source_id == system.id))
    assert (dependency.target_id, dependency.kind) == (first.id, "consumes_api")
