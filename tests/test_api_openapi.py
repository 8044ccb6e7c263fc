"""The OpenAPI document: generated from the routes, complete, and true to what the API answers.

The last test lets schemathesis generate requests for every operation from the document and
sends them to the app in-process, as an administrator with a write token: no answer may be a
server error, and every answer must match the status codes and schemas the document promises.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from registry.factory import create_app
from registry.models import Decision, DuplicateWarning
from registry.services.dependencies import add_dependency
from registry.services.reporting import RoundInput, open_round
from registry.services.tokens import issue_token
from registry.web.api.openapi import PLACEHOLDER, build_document
from tests.conftest import OPERATOR, only_these_warnings


def _api_rules(app) -> dict[str, set[str]]:
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = PLACEHOLDER.sub(r"{\1}", rule.rule)
            routes.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return routes


def test_the_document_describes_every_api_route_and_nothing_else(anon_client, app):
    document = anon_client.get("/api/v1/openapi.json").get_json()
    described = {path: set(item) for path, item in document["paths"].items()}
    assert described == _api_rules(app)
    assert document["openapi"].startswith("3.")


def test_the_document_is_valid_openapi(anon_client):
    validate(anon_client.get("/api/v1/openapi.json").get_json())


def test_an_undescribed_route_stops_the_document(app):
    from registry.web import access

    @access.allow(access.policy.Permission.VIEW_PORTFOLIO)
    def undocumented() -> str:
        return ""

    app.add_url_rule("/api/v1/undocumented", "api.undocumented", undocumented)
    with pytest.raises(RuntimeError, match="GET /api/v1/undocumented"):
        build_document(app)


def test_the_document_declares_security_errors_and_permissions(anon_client):
    document = anon_client.get("/api/v1/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "htr_…",
    }
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    update = document["paths"]["/api/v1/systems/{code}"]["put"]
    assert update["x-permission"] == "edit_system"
    assert {"401", "403", "404", "409", "422"} <= set(update["responses"])
    assert update["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert document["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    listing = document["paths"]["/api/v1/systems"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert names == {
        "q",
        "status",
        "agency",
        "agency_role",
        "level",
        "capability",
        "shared",
        "block",
        "severity",
        "warnings",
        "sort",
        "page",
        "per_page",
    }


# --- schemathesis ------------------------------------------------------------------------------


@pytest.fixture
def fuzz_world(
    session, make_agency, make_capability, make_data_domain, make_system, make_user
) -> dict[str, Any]:
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    capability = make_capability(code="documents")
    make_data_domain()
    platform = make_system(
        name="Nền tảng dùng chung",
        is_shared_platform=True,
        status="in_operation",
        capability_ids=[capability.id],
        registered_year=2026,
    )
    draft = make_system(name="Phần mềm đề xuất", owner_agency_id=province.id, registered_year=2026)
    round_ = open_round(
        session,
        RoundInput(
            title="Báo cáo quý",
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            deadline=date.today() + timedelta(days=30),
            agency_ids=(province.id, platform.owner_agency_id),
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
        detector_version="t",
    )
    only_these_warnings(session, warning)
    session.add(Decision(system_id=draft.id, reviewer_label="t", outcome="reject", reason="Trùng lặp"))
    session.commit()
    admin = make_user("admin")
    secret = issue_token(session, admin, name="fuzz", scope="write", days=30, actor=OPERATOR).secret
    session.commit()
    return {
        "headers": {"Authorization": f"Bearer {secret}"},
        "real": {
            "code": [draft.code, platform.code],
            "warning_id": [warning.id],
            "dependency_id": [dependency.id],
            "round_id": [round_.id],
        },
    }


# Operations are generated at collection time, from the document of an app that needs no database;
# the requests then go to each test's own app (``app=`` below).
schema = schemathesis.openapi.from_dict(
    build_document(
        create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "-", "AUTO_SETUP": False})
    )
)


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "10")),
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_what_its_document_promises(case, app, fuzz_world):
    # Half the generated identifiers are replaced by real ones, so the operations also succeed
    # (and fail validation) on records that exist, not only answer 404.
    for name, values in fuzz_world["real"].items():
        value = (case.path_parameters or {}).get(name)
        if value is not None and len(str(value)) % 2 == 0:
            case.path_parameters[name] = values[len(str(value)) % len(values)]
    case.call_and_validate(
        app=app,
        headers=fuzz_world["headers"],
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
