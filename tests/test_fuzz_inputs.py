"""Generated input at the doors people type and upload into: never a server error, never a
half-written import.

Hypothesis writes the system form's fields and the rows of an uploaded CSV from every kind of
text (control characters, NUL, right-to-left marks, formulas, numbers where words belong and
words where numbers belong, ids that do not exist). A form must answer with its page or a
redirect, and an import must either be refused with its problems or be written whole.

The suite runs a few dozen examples per door; ``REGISTRY_FUZZ_EXAMPLES`` raises it
(``benchmarks/fuzz.py`` runs thousands, with the API's schemathesis run).
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from registry.auth.actor import Actor
from registry.interchange.source import UnreadableFileError
from registry.models import InformationSystem
from registry.services import imports

EXAMPLES = int(os.environ.get("REGISTRY_FUZZ_EXAMPLES", "25"))

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# Text as people paste it, and as attackers write it.
awkward = st.sampled_from(
    [
        "",
        " ",
        '=HYPERLINK("http://x")',
        "+1",
        "-0",
        "\u202eníặ",
        "a\x00b",
        "\r\n",
        "1e400",
        "NaN",
        "-1",
        "99999999999999999999999",
        "2026-02-30",
        "0x1F",
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "%_",
        "Quản lý văn bản",
    ]
)
some_text = st.one_of(awkward, st.text(max_size=80), st.text(alphabet=st.characters(), max_size=12))
some_id = st.one_of(awkward, st.integers(-(2**70), 2**70).map(str), st.just("1"))

FORM_TEXT = (
    "name",
    "description",
    "purpose",
    "legal_basis",
    "mandate",
    "operating_rules_ref",
    "usage_orientation",
    "funding_source",
    "overlap_justification",
    "website_url",
    "external_id",
    "estimated_cost_vnd",
    "target_users",
    "active_users",
    "operating_rules_date",
    "status",
    "scope_level",
    "hosting",
    "version",
    "reuse_of",
    "is_shared_platform",
)
FORM_IDS = ("owner_agency_id", "operator_agency_id", "instance_of_id", "security_level")
FORM_LISTS = ("user_agency_ids", "capability_ids", "data_domain_ids")

form_data = st.fixed_dictionaries(
    {},
    optional={
        **dict.fromkeys(FORM_TEXT, some_text),
        **dict.fromkeys(FORM_IDS, some_id),
        **{name: st.lists(some_id, max_size=3) for name in FORM_LISTS},
    },
)

# Only the fields any text may go into: these cases get past validation and are saved.
free_text_only = st.fixed_dictionaries(
    {}, optional=dict.fromkeys(("purpose", "legal_basis", "mandate", "funding_source"), some_text)
)

IMPORT_COLUMNS = (
    "code",
    "name",
    "description",
    "purpose",
    "status",
    "scope_level",
    "is_shared_platform",
    "instance_of",
    "owner_agency",
    "operator_agency",
    "user_agencies",
    "legal_basis",
    "operating_rules_date",
    "capabilities",
    "data_domains",
    "hosting",
    "security_level",
    "estimated_cost_vnd",
    "target_users",
    "website_url",
    "external_id",
)
VALID_ROW = {
    "name": "Hệ thống quản lý hồ sơ",
    "description": "Quản lý hồ sơ công việc của cơ quan",
    "scope_level": "province",
    "status": "draft",
    "owner_agency": "TU-THA",
}


@st.composite
def import_row(draw: st.DrawFn) -> dict[str, str]:
    """A row of generated cells over some cells of a valid row, so that rows are also written."""
    keep = draw(st.sets(st.sampled_from(sorted(VALID_ROW))))
    cells = draw(st.fixed_dictionaries({}, optional=dict.fromkeys(IMPORT_COLUMNS, some_text)))
    return {**{name: VALID_ROW[name] for name in keep}, **cells}


import_rows = st.lists(import_row(), min_size=1, max_size=4)


def test_the_system_form_never_fails_on_what_is_typed(client, session, make_agency, make_system):
    province = make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    existing = make_system(name="Phần mềm quản lý văn bản", owner_agency_id=province.id)

    valid = {
        "name": "Hệ thống quản lý hồ sơ",
        "description": "Quản lý hồ sơ công việc của cơ quan",
        "scope_level": "province",
        "status": "draft",
        "owner_agency_id": str(province.id),
    }
    answers: list[int] = []

    @FUZZ
    @given(
        data=st.one_of(form_data, free_text_only),
        keep=st.one_of(st.just(set(valid)), st.sets(st.sampled_from(sorted(valid)))),
        edit=st.booleans(),
    )
    def post(data: dict[str, Any], keep: set[str], edit: bool) -> None:
        # Some fields of a valid record are kept under the generated ones, so the form also gets
        # past its first checks and saves, not only refuses.
        data = {**{name: valid[name] for name in keep}, **data}
        url = f"/systems/{existing.code}/edit" if edit else "/systems/new"
        if edit and "version" not in data:
            session.refresh(existing)
            data["version"] = str(existing.version)
        response = client.post(url, data=data)
        answers.append(response.status_code)
        assert response.status_code < 500, (url, data, response.text[:2000])

    post()
    assert {302, 422} <= set(answers), answers  # some saved, some refused


def test_an_import_is_refused_with_its_problems_or_written_whole(app, session, make_agency):
    make_agency(code="TU-THA", name="Tỉnh ủy Thanh Hóa", level="province", block="locality")
    session.commit()
    actor = Actor.operator("fuzz")
    outcomes: set[str] = set()

    @FUZZ
    @given(rows=import_rows)
    def upload(rows: list[dict[str, str]]) -> None:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(IMPORT_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
        data = buffer.getvalue().encode("utf-8", "surrogatepass")
        before = session.scalar(select(func.count()).select_from(InformationSystem))
        try:
            plan = imports.plan_import(session, actor, "fuzz.csv", data, fmt="csv")
        except UnreadableFileError as exc:
            assert str(exc.message)
            outcomes.add("refused")
            return
        try:
            if plan.problems():
                assert all(message for _where, _column, message in plan.problems())
                outcomes.add("refused")
                return
            result = imports.commit_import(session, actor, "fuzz.csv", data, plan=plan)
            session.flush()
            after = session.scalar(select(func.count()).select_from(InformationSystem))
            assert after == before + result.created
            outcomes.add("written")
        finally:
            session.rollback()

    upload()
    assert {"refused", "written"} <= outcomes, outcomes
