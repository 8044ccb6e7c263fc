"""The import pages: upload and preview, commit as previewed, templates; access by agency."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from registry.interchange.tabular import KNOWN_COLUMNS
from registry.models import AuditEvent, ImportUpload, InformationSystem
from tests.conftest import csrf_token_of


@pytest.fixture
def province(make_agency):
    return make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")


@pytest.fixture
def other(make_agency):
    return make_agency(code="TU-HNI", name="Thành ủy Hà Nội", level="province", block="locality")


def _csv(*rows: str) -> bytes:
    return ("name,description,owner_agency,scope_level\r\n" + "".join(r + "\r\n" for r in rows)).encode()


def _upload(client, data: bytes, filename: str = "list.csv", **fields: str):
    page = client.get("/imports/")
    assert page.status_code == 200
    return client.post(
        "/imports/",
        data={
            "csrf_token": csrf_token_of(page.get_data(as_text=True)),
            "file": (io.BytesIO(data), filename),
            **fields,
        },
        content_type="multipart/form-data",
    )


def _commit(client, html: str):
    return client.post(
        re.search(r'action="([^"]+/commit)"', html).group(1),
        data={
            "csrf_token": csrf_token_of(html),
            "fingerprint": re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html).group(1),
        },
    )


def _count(session, model=InformationSystem) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_a_submitter_previews_then_commits_into_their_own_agency(client_for, province, session, csrf_app):
    client = client_for("submitter", agency_id=province.id)
    response = _upload(
        client, _csv("Cổng dịch vụ công Thanh Hóa,Tiếp nhận hồ sơ trực tuyến.,TU-THA,province")
    )
    assert response.status_code == 302
    preview = client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert re.search(r'data-count="create">\s*<div[^>]*>1<', html)
    assert _count(session) == 0  # nothing written by the preview

    done = _commit(client, html)
    assert done.status_code == 302
    assert _count(session) == 1
    system = session.scalar(select(InformationSystem))
    assert system.owner_agency_id == province.id and system.status == "draft"
    job_page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'data-job-state="succeeded"' in job_page
    result_url = re.search(r'href="([^"]+)" data-job-import-result', job_page).group(1)
    result = client.get(result_url).get_data(as_text=True)
    assert 'data-import="done"' in result and system.code in result
    assert session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "import.commit")
    )


def test_a_submitter_cannot_import_into_another_agency(client_for, province, other, session, csrf_app):
    client = client_for("submitter", agency_id=province.id)
    response = _upload(client, _csv("Hệ thống Hà Nội,Mô tả hệ thống.,TU-HNI,province"))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-import="refused"' in html and "owner_agency" in html
    assert 'data-form="commit"' not in html


def test_a_stale_preview_is_not_committed(client, province, session, csrf_app):
    response = _upload(client, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    token = response.headers["Location"].rsplit("/", 1)[1]
    refused = client.post(
        f"/imports/{token}/commit", data={"csrf_token": csrf_token_of(html), "fingerprint": "0" * 64}
    )
    assert refused.status_code == 302
    assert _count(session) == 0
    assert session.scalar(select(ImportUpload)).committed_at is None


def test_uploads_are_private_to_their_uploader(client_for, province, session, csrf_app):
    owner = client_for("submitter", agency_id=province.id)
    response = _upload(owner, _csv("Hệ thống A,Mô tả hệ thống.,TU-THA,province"))
    intruder = client_for("admin")
    assert intruder.get(response.headers["Location"]).status_code == 404


def test_an_unreadable_file_is_explained(client, province, csrf_app):
    response = _upload(client, "tên,mô tả\r\n".encode("utf-16-le"), "list.csv")
    page = client.get(response.headers["Location"])
    assert page.status_code == 422
    assert 'data-import="unreadable"' in page.get_data(as_text=True)


def test_the_templates_have_the_columns_the_import_reads(client, province):
    csv_template = client.get("/imports/template.csv")
    assert csv_template.status_code == 200
    header = csv_template.get_data().decode("utf-8-sig").splitlines()[0]
    assert header.split(",") == list(KNOWN_COLUMNS)
    xlsx = client.get("/imports/template.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()), read_only=True)
    assert book.sheetnames[0] == "Systems"
    assert [c.value for c in next(book["Systems"].iter_rows(max_row=1))] == list(KNOWN_COLUMNS)
    agencies = [row[0] for row in book.worksheets[2].iter_rows(min_row=2, values_only=True)]
    assert "TU-THA" in agencies
    assert len(book.sheetnames) == 5


FOREIGN_PUBLICCODE = """\
publiccodeYmlVersion: "0.4"
name: Medusa
developmentStatus: development
description: {en: {shortDescription: A document manager for public administrations}}
"""


def test_an_administrator_picks_the_managing_agency_of_rows_that_name_none(
    client, province, other, session, csrf_app
):
    form = client.get("/imports/").get_data(as_text=True)
    assert "Cơ quan chủ quản cho các dòng không ghi cơ quan" in form
    assert '<option value="TU-THA">' in form and '<option value="TU-HNI">' in form
    response = _upload(client, FOREIGN_PUBLICCODE.encode(), "publiccode.yml", default_owner="TU-THA")
    assert response.status_code == 302
    assert session.scalar(select(ImportUpload)).default_owner == "TU-THA"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-default-owner="TU-THA"' in html and "Tỉnh ủy Thanh Hóa" in html
    assert re.search(r'data-count="defaulted">\s*1 ', html)
    assert re.search(r'data-count="create">\s*<div[^>]*>1<', html)
    assert _commit(client, html).status_code == 302
    system = session.scalar(select(InformationSystem))
    assert (
        system.name == "Medusa" and system.owner_agency_id == province.id and system.scope_level == "province"
    )


def test_without_a_default_the_foreign_rows_are_refused_as_before(client, province, session, csrf_app):
    response = _upload(client, FOREIGN_PUBLICCODE.encode(), "publiccode.yml")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-import="refused"' in html and "data-default-owner" not in html
    assert session.scalar(select(ImportUpload)).default_owner is None


def test_a_submitters_default_is_their_own_agency(client_for, province, other, session, csrf_app):
    client = client_for("submitter", agency_id=province.id)
    form = client.get("/imports/").get_data(as_text=True)
    select_html = re.search(r'<select[^>]*name="default_owner".*?</select>', form, re.S).group(0)
    assert re.findall(r'<option[^>]*value="([^"]*)"', select_html) == ["TU-THA"]
    refused = _upload(client, _csv("Hệ thống Hà Nội,Mô tả hệ thống.,,province"), default_owner="TU-HNI")
    assert refused.status_code == 200 and _count(session, ImportUpload) == 0
    response = _upload(client, _csv("Hệ thống Thanh Hóa,Mô tả hệ thống.,,"), default_owner="TU-THA")
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert _commit(client, html).status_code == 302
    system = session.scalar(select(InformationSystem))
    assert system.owner_agency_id == province.id and system.scope_level == "province"
