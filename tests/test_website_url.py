"""A system's website: typed in the form or sent to the API, checked, linked, exported, imported."""

from __future__ import annotations

import csv
import io

import pytest

from registry.services.imports import commit_import
from tests.conftest import OPERATOR

PORTAL = "https://dichvucong.thanhhoa.gov.vn/portaldvc/home"


@pytest.fixture
def owner(make_agency):
    return make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")


def _form(owner, **values):
    return {
        "name": "Cổng dịch vụ công tỉnh Thanh Hóa",
        "description": "Tiếp nhận và trả kết quả hồ sơ thủ tục hành chính trực tuyến.",
        "status": "draft",
        "scope_level": "province",
        "owner_agency_id": str(owner.id),
        **values,
    }


def test_the_form_takes_a_website_and_the_page_links_to_it(client, owner):
    response = client.post("/systems/new", data=_form(owner, website_url=PORTAL))
    assert response.status_code == 302, response.text
    page = client.get(response.headers["Location"]).text
    assert "Trang web" in page
    assert f'<a href="{PORTAL}" rel="noopener noreferrer external" target="_blank">{PORTAL}</a>' in page


@pytest.mark.parametrize("address", ["javascript:alert(1)", "dichvucong.thanhhoa.gov.vn", "ftp://a.vn/x"])
def test_anything_but_an_http_address_is_refused_next_to_the_field(client, owner, address):
    response = client.post("/systems/new", data=_form(owner, website_url=address))
    assert response.status_code == 422
    assert 'id="website_url-error"' in response.text
    assert "Nhập một địa chỉ web bắt đầu bằng http:// hoặc https://." in response.text


def test_the_api_reads_writes_and_checks_the_website(client, owner):
    record = {
        "name": "Cổng dịch vụ công tỉnh Thanh Hóa",
        "description": "Hồ sơ thủ tục hành chính trực tuyến.",
        "scope_level": "province",
        "owner_agency": owner.code,
        "website_url": PORTAL,
    }
    created = client.post("/api/v1/systems", json=record)
    assert created.status_code == 201, created.text
    assert created.get_json()["website_url"] == PORTAL
    code, version = created.get_json()["code"], created.get_json()["version"]
    refused = client.patch(f"/api/v1/systems/{code}", json={"website_url": "portal", "version": version})
    assert refused.status_code == 422
    assert "website_url" in refused.get_json()["error"]["fields"]
    schema = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["SystemWrite"]
    assert schema["properties"]["website_url"]["anyOf"][0]["maxLength"] == 500


def test_the_inventory_exports_the_website_and_an_import_reads_it_back(client, session, owner):
    client.post("/systems/new", data=_form(owner, website_url=PORTAL))
    exported = client.get("/exports/systems.csv").get_data().decode("utf-8-sig")
    lines = [line for line in exported.splitlines() if not line.startswith("#")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert rows[0]["website_url"] == PORTAL

    rows[0]["website_url"] = "https://thanhhoa.dcs.vn/"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerow(rows[0])
    result = commit_import(session, OPERATOR, "site.csv", out.getvalue().encode())
    session.commit()
    assert result.updated == 1
    record = client.get(f"/api/v1/systems/{rows[0]['code']}").get_json()
    assert record["website_url"] == "https://thanhhoa.dcs.vn/"
