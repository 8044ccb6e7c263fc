"""Every door saves a system the same way: form, API (POST, PUT, PATCH), import (CSV, JSON),
the command line and the seed store the same warnings, findings, dependencies and audit events.

Each case starts from the same small portfolio, loaded by the seed loader, and registers the
same record (a near-copy of Hà Nội's document-management system) through one door; the edit
cases register it through the API and then change its description through one door. What each
door stored is then read back and compared with what the form stored.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from registry.db import get_engine
from registry.models import (
    Agency,
    AuditEvent,
    Capability,
    DataDomain,
    Dependency,
    DuplicateWarning,
    Finding,
    InformationSystem,
)
from registry.services.overlaps import portfolio_index
from registry.services.seed import load_seed
from tests.conftest import _empty_tables, csrf_token_of, sign_in

YEAR_NOW = date.today().year

AGENCIES = [
    {"code": "VPTW", "name": "Văn phòng Trung ương Đảng", "level": "central", "block": "party"},
    {"code": "TU-HNI", "name": "Thành ủy Hà Nội", "level": "province", "block": "locality"},
    {"code": "TU-THA", "name": "Tỉnh ủy Thanh Hóa", "level": "province", "block": "locality"},
]
CAPABILITIES = [
    {"code": "document_management", "name": "Quản lý văn bản và điều hành", "name_en": "Documents"},
    {"code": "portal", "name": "Cổng thông tin điện tử", "name_en": "Portal"},
]
DATA_DOMAINS = [{"code": "documents", "name": "Văn bản, hồ sơ", "name_en": "Documents and records"}]
PORTFOLIO = [
    {
        "key": "eoffice-hn",
        "registered_year": 2021,
        "name": "Hệ thống quản lý văn bản và điều hành eOffice Thành ủy Hà Nội",
        "description": "Quản lý văn bản đến, văn bản đi, hồ sơ công việc và điều hành tác nghiệp "
        "của các cơ quan Thành ủy Hà Nội trên môi trường mạng.",
        "status": "in_operation",
        "scope_level": "province",
        "owner": "TU-HNI",
        "operator": "TU-HNI",
        "users": ["TU-HNI"],
        "capabilities": ["document_management"],
        "data_domains": ["documents"],
        "legal_basis": "Quyết định 204-QĐ/TW",
        "security_level": 3,
    },
    {
        "key": "portal-tha",
        "registered_year": 2022,
        "name": "Cổng thông tin điện tử Đảng bộ tỉnh Thanh Hóa",
        "description": "Tin tức, tuyên truyền, văn kiện của Đảng bộ tỉnh.",
        "status": "in_operation",
        "scope_level": "province",
        "owner": "TU-THA",
        "capabilities": ["portal"],
    },
]
RECORD: dict[str, Any] = {
    "name": "Phần mềm quản lý văn bản và điều hành Thành ủy Hà Nội",
    "description": "Quản lý văn bản đến, văn bản đi, hồ sơ công việc và điều hành tác nghiệp "
    "của các cơ quan Thành ủy trên môi trường mạng.",
    "purpose": "Thay thế phần mềm cũ đã hết hạn bảo trì.",
    "status": "draft",
    "scope_level": "province",
    "owner_agency": "TU-HNI",
    "operator_agency": "TU-HNI",
    "user_agencies": ["TU-HNI", "TU-THA"],
    "capabilities": ["document_management"],
    "data_domains": ["documents"],
    "legal_basis": "Kế hoạch 02-KH/BCĐTW",
    "hosting": "own_server_room",
    "security_level": 2,
    "estimated_cost_vnd": 1_500_000_000,
    "target_users": 800,
}
NEW_DESCRIPTION = "Văn bản đến, văn bản đi và hồ sơ công việc của Thành ủy; ký số trên điện thoại."
SEED_RECORD = {
    **{k: v for k, v in RECORD.items() if k not in ("owner_agency", "operator_agency", "user_agencies")},
    "key": "new",
    "registered_year": YEAR_NOW,
    "owner": RECORD["owner_agency"],
    "operator": RECORD["operator_agency"],
    "users": RECORD["user_agencies"],
}


def _write_seed(directory: Path, systems: list[dict[str, Any]]) -> Path:
    (directory / "systems").mkdir(parents=True)
    for name, key, records in (
        ("agencies.yaml", "agencies", AGENCIES),
        ("capabilities.yaml", "capabilities", CAPABILITIES),
        ("data_domains.yaml", "data_domains", DATA_DOMAINS),
        ("systems/portfolio.yaml", "systems", systems),
    ):
        (directory / name).write_text(yaml.safe_dump({key: records}, allow_unicode=True), encoding="utf-8")
    return directory


# --- the doors -----------------------------------------------------------------------------------


def _ids(session: Session, model: Any, codes: list[str]) -> list[str]:
    return [str(session.scalar(select(model.id).where(model.code == code))) for code in codes]


def _form_data(session: Session, record: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in record.items() if k not in ("owner_agency", "operator_agency", "user_agencies")}
    data.pop("capabilities", None), data.pop("data_domains", None)
    return {
        **{k: str(v) for k, v in data.items()},
        "owner_agency_id": _ids(session, Agency, [record["owner_agency"]])[0],
        "operator_agency_id": _ids(session, Agency, [record["operator_agency"]])[0],
        "user_agency_ids": _ids(session, Agency, record["user_agencies"]),
        "capability_ids": _ids(session, Capability, record["capabilities"]),
        "data_domain_ids": _ids(session, DataDomain, record["data_domains"]),
    }


def _csv_file(record: dict[str, Any]) -> bytes:
    row = {k: "; ".join(v) if isinstance(v, list) else v for k, v in record.items()}
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(row))
    writer.writeheader()
    writer.writerow(row)
    return out.getvalue().encode()


def _web_import(client: FlaskClient, data: bytes, filename: str) -> None:
    page = client.get("/imports/").text
    uploaded = client.post(
        "/imports/",
        data={"csrf_token": csrf_token_of(page), "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.text
    html = client.get(uploaded.headers["Location"]).text
    done = client.post(
        re.search(r'action="([^"]+/commit)"', html).group(1),  # type: ignore[union-attr]
        data={
            "csrf_token": csrf_token_of(html),
            "fingerprint": re.search(r'name="fingerprint" type="hidden" value="([^"]+)"', html).group(1),  # type: ignore[union-attr]
        },
    )
    assert done.status_code == 302, done.text


def _cli_import(app: Flask, directory: Path, data: bytes) -> None:
    path = directory / "systems.csv"
    path.write_bytes(data)
    result = app.test_cli_runner().invoke(args=["import", "systems", str(path), "--commit"])
    assert result.exit_code == 0, result.output


def register_by_form(ctx: dict[str, Any]) -> None:
    client, session = ctx["client"], ctx["session"]
    page = client.get("/systems/new").text
    response = client.post(
        "/systems/new", data={"csrf_token": csrf_token_of(page), **_form_data(session, RECORD)}
    )
    assert response.status_code == 302, response.text


def register_by_api(ctx: dict[str, Any]) -> None:
    response = ctx["client"].post("/api/v1/systems", json=RECORD)
    assert response.status_code == 201, response.text


def register_by_csv_import(ctx: dict[str, Any]) -> None:
    _web_import(ctx["client"], _csv_file(RECORD), "systems.csv")


def register_by_json_import(ctx: dict[str, Any]) -> None:
    _web_import(ctx["client"], json.dumps([RECORD], ensure_ascii=False).encode(), "systems.json")


def register_by_cli(ctx: dict[str, Any]) -> None:
    _cli_import(ctx["app"], ctx["directory"], _csv_file(RECORD))


def register_by_seed(ctx: dict[str, Any]) -> None:
    with Session(get_engine(ctx["app"]), expire_on_commit=False) as session:
        load_seed(session, _write_seed(ctx["directory"] / "more", [*PORTFOLIO, SEED_RECORD]))
        session.commit()


def _current(ctx: dict[str, Any]) -> dict[str, Any]:
    return ctx["client"].get(f"/api/v1/systems/{ctx['code']}").get_json()


def edit_by_form(ctx: dict[str, Any]) -> None:
    client, session = ctx["client"], ctx["session"]
    page = client.get(f"/systems/{ctx['code']}/edit").text
    data = _form_data(session, {**RECORD, "description": NEW_DESCRIPTION})
    data["version"] = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(f"/systems/{ctx['code']}/edit", data={"csrf_token": csrf_token_of(page), **data})
    assert response.status_code == 302, response.text


def edit_by_put(ctx: dict[str, Any]) -> None:
    body = {**_current(ctx), "description": NEW_DESCRIPTION}
    response = ctx["client"].put(f"/api/v1/systems/{ctx['code']}", json=body)
    assert response.status_code == 200, response.text


def edit_by_patch(ctx: dict[str, Any]) -> None:
    body = {"description": NEW_DESCRIPTION, "version": _current(ctx)["version"]}
    response = ctx["client"].patch(f"/api/v1/systems/{ctx['code']}", json=body)
    assert response.status_code == 200, response.text


def _edited_record(ctx: dict[str, Any]) -> dict[str, Any]:
    return {"code": ctx["code"], **RECORD, "description": NEW_DESCRIPTION}


def edit_by_csv_import(ctx: dict[str, Any]) -> None:
    _web_import(ctx["client"], _csv_file(_edited_record(ctx)), "systems.csv")


def edit_by_json_import(ctx: dict[str, Any]) -> None:
    data = json.dumps([_edited_record(ctx)], ensure_ascii=False).encode()
    _web_import(ctx["client"], data, "systems.json")


def edit_by_cli(ctx: dict[str, Any]) -> None:
    _cli_import(ctx["app"], ctx["directory"], _csv_file(_edited_record(ctx)))


# --- what a door stored --------------------------------------------------------------------------


def stored(app: Flask, name: str) -> dict[str, Any]:
    """Everything the save of the system named ``name`` left behind, in comparable form."""
    with Session(get_engine(app)) as session:
        system = session.scalar(select(InformationSystem).where(InformationSystem.name == name))
        assert system is not None, "the door stored no system"
        a, b = aliased(InformationSystem), aliased(InformationSystem)
        warnings = session.execute(
            select(a.code, b.code, DuplicateWarning.score, DuplicateWarning.disposition)
            .join(a, a.id == DuplicateWarning.system_a_id)
            .join(b, b.id == DuplicateWarning.system_b_id)
            .order_by(a.code, b.code)
        ).all()
        source, target = aliased(InformationSystem), aliased(InformationSystem)
        dependencies = session.execute(
            select(source.code, target.code, Dependency.kind)
            .join(source, source.id == Dependency.source_id)
            .join(target, target.id == Dependency.target_id)
        ).all()
        findings = session.scalars(
            select(Finding.rule_code).where(Finding.system_id == system.id).order_by(Finding.rule_code)
        ).all()
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.system_id == system.id).order_by(AuditEvent.seq)
        ).all()
        return {
            "code": system.code,
            "version": system.version,
            "warnings": [(x, y, round(score, 6), disposition) for x, y, score, disposition in warnings],
            "dependencies": sorted(tuple(row) for row in dependencies),
            "findings": list(findings),
            "events": [
                (
                    event.action,
                    {k: v for k, v in (event.before or {}).items() if k != "external_id"},
                    {k: v for k, v in (event.after or {}).items() if k != "external_id"},
                )
                for event in events
            ],
        }


REGISTER: dict[str, Callable[[dict[str, Any]], None]] = {
    "form": register_by_form,
    "api-post": register_by_api,
    "import-csv": register_by_csv_import,
    "import-json": register_by_json_import,
    "cli": register_by_cli,
    "seed": register_by_seed,
}
EDIT: dict[str, Callable[[dict[str, Any]], None]] = {
    "form": edit_by_form,
    "api-put": edit_by_put,
    "api-patch": edit_by_patch,
    "import-csv": edit_by_csv_import,
    "import-json": edit_by_json_import,
    "cli": edit_by_cli,
}


@pytest.fixture
def start(app, session, tmp_path, make_user) -> Callable[[], dict[str, Any]]:
    """Start from the same portfolio: empty tables, a fresh index, the base seed, a signed-in admin.

    A case runs the form (the reference door) and then its own door from this same start, so
    each comparison stands on its own, whatever order or selection the cases run in.
    """
    runs = iter(range(1, 100))

    def fresh() -> dict[str, Any]:
        directory = tmp_path / f"run{next(runs)}"
        session.rollback()
        _empty_tables(get_engine(app))
        portfolio_index().reset()
        session.expire_all()
        load_seed(session, _write_seed(directory / "base", PORTFOLIO))
        session.commit()
        admin = make_user("admin", username="admin")
        client = sign_in(app.test_client(), admin.username)
        return {"app": app, "session": session, "client": client, "directory": directory}

    with app.app_context():
        yield fresh


@pytest.mark.parametrize("door", [d for d in REGISTER if d != "form"])
def test_every_door_registers_a_system_as_the_form_does(start, door):
    register_by_form(reference := start())
    expected = stored(reference["app"], RECORD["name"])
    assert expected["warnings"], "a near-copy of Hà Nội's eOffice must be warned about"
    assert expected["findings"], "the rules must have judged the new system"
    assert [action for action, _before, _after in expected["events"]] == ["system.create"]

    REGISTER[door](ctx := start())
    assert stored(ctx["app"], RECORD["name"]) == expected


@pytest.mark.parametrize("door", [d for d in EDIT if d != "form"])
def test_every_door_edits_a_system_as_the_form_does(start, door):
    def edited(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        ctx = start()
        register_by_api(ctx)
        ctx["code"] = stored(ctx["app"], RECORD["name"])["code"]
        edit(ctx)
        return stored(ctx["app"], RECORD["name"])

    expected = edited(edit_by_form)
    assert [action for action, _before, _after in expected["events"]] == ["system.create", "system.update"]
    assert expected["events"][1][2]["description"] == NEW_DESCRIPTION and expected["version"] == 2
    assert expected["warnings"] and expected["findings"]
    assert edited(EDIT[door]) == expected


def test_an_api_registered_near_copy_appears_in_the_review_queue(start, client_for):
    """The report that started it: the API's near-copy had no warnings in the queue."""
    ctx = start()
    response = ctx["client"].post("/api/v1/systems", json=RECORD)
    assert response.status_code == 201
    code = response.get_json()["code"]
    warnings = ctx["client"].get(f"/api/v1/systems/{code}/warnings").get_json()["items"]
    assert [w["other"] for w in warnings] == [stored(ctx["app"], PORTFOLIO[0]["name"])["code"]]
    queue = ctx["client"].get("/api/v1/warnings?disposition=open").get_json()["items"]
    assert code in {w["system_a"] for w in queue} | {w["system_b"] for w in queue}
