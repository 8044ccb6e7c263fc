"""The inventory "as of" a past instant, rebuilt from the trail, against the live export taken then."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from registry.auth.actor import Actor
from registry.exports import as_of, inventory
from registry.filters import SystemFilter
from registry.models import AuditEvent
from registry.services import workflow
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR, proposal_fields

MOMENTS = ("operating_rules_date", "created_at", "updated_at")


def _live(session, flt: SystemFilter | None = None) -> list[dict]:
    return list(inventory.rows(session, inventory.ExportScope(flt=flt or SystemFilter())))


def _past(session, instant: datetime, flt: SystemFilter | None = None, batch: int = 5000) -> list[dict]:
    return list(as_of.rows(session, as_of.AsOfScope(instant=instant, flt=flt or SystemFilter()), batch=batch))


def _same(rebuilt: list[dict], live: list[dict]) -> None:
    """Every column equal; the two timestamps within the transaction that wrote them (each
    written to the second, so up to one second apart when the transaction spans a tick)."""
    assert [r["code"] for r in rebuilt] == [r["code"] for r in live]
    for old, now in zip(rebuilt, live, strict=True):
        assert {k: v for k, v in old.items() if k not in MOMENTS[1:]} == {
            k: v for k, v in now.items() if k not in MOMENTS[1:]
        }
        for name in MOMENTS[1:]:
            gap = datetime.fromisoformat(old[name]) - datetime.fromisoformat(now[name])
            assert abs(gap) <= timedelta(seconds=1), (name, old[name], now[name])


@pytest.fixture
def history(session, make_agency, make_capability, make_system, make_user):
    """A portfolio edited over time; the live export and filtered exports taken at each instant."""
    province = make_agency(code="TU-NAN", name="Tỉnh ủy Nghệ An", level="province", block="locality")
    hue = make_agency(code="TU-HUE", name="Thành ủy Huế", level="province", block="locality")
    docs = make_capability(code="document_management", name="Quản lý văn bản")
    fields = proposal_fields(make_agency, make_capability(code="party_members", name="Quản lý đảng viên"))
    level = SystemFilter(level="province")
    snapshots: list[tuple[datetime, list[dict], list[dict]]] = []

    def moment() -> None:
        snapshots.append((datetime.now(UTC), _live(session), _live(session, level)))

    moment()  # nothing registered yet
    platform = make_system(name="VNeID", is_shared_platform=True, status="in_operation")
    proposal = make_system(
        name="Phần mềm quản lý văn bản Nghệ An",
        owner_agency_id=province.id,
        scope_level="province",
        operating_rules_ref="Quy chế 12-QC/TU",
        operating_rules_date=date(2025, 3, 1),
        **fields,
    )
    moment()
    data = SystemInput.from_system(proposal)
    data.name = "Phần mềm quản lý văn bản và lưu trữ Nghệ An"
    data.user_agency_ids = [hue.id, province.id]
    data.capability_ids = [*data.capability_ids, docs.id]
    data.instance_of_id = platform.id
    data.estimated_cost_vnd = 2_500_000_000
    update_system(session, proposal, data, actor=OPERATOR, expected_version=proposal.version)
    session.commit()
    moment()
    submitter = make_user("submitter", agency_id=province.id)
    workflow.transition(session, proposal, "submit", actor=Actor.of(submitter))
    session.commit()
    moment()
    data = SystemInput.from_system(platform)
    data.scope_level = "province"
    data.owner_agency_id = hue.id
    update_system(session, platform, data, actor=OPERATOR, expected_version=platform.version)
    session.commit()
    make_system(name="Cổng thông tin Huế", owner_agency_id=hue.id, scope_level="province")
    moment()
    return {"snapshots": snapshots, "province": province, "hue": hue, "proposal": proposal}


def test_each_past_instant_matches_the_live_export_taken_then(session, history):
    snapshots = history["snapshots"]
    assert [len(s[1]) for s in snapshots] == [0, 2, 2, 2, 3]
    for instant, live, _filtered in snapshots:
        _same(_past(session, instant), live)
        _same(_past(session, instant, batch=1), live)  # one system id per range


def test_filters_apply_to_the_rows_as_they_were(session, history):
    for instant, _live_rows, filtered in history["snapshots"]:
        _same(_past(session, instant, SystemFilter(level="province")), filtered)
    third = history["snapshots"][3][0]
    submitted = _past(session, third, SystemFilter(statuses=["submitted"]))
    assert [r["code"] for r in submitted] == [history["proposal"].code]
    live = next(r for r in history["snapshots"][3][1] if r["code"] == history["proposal"].code)
    assert submitted[0]["user_agencies"] == "TU-HUE; TU-NAN" and submitted[0]["version"] == live["version"]
    assert submitted[0]["instance_of"] == live["instance_of"] is not None
    by_user = _past(session, third, SystemFilter(agency="TU-HUE", agency_role="user"))
    assert [r["code"] for r in by_user] == [history["proposal"].code]
    assert _past(session, third, SystemFilter(q="luu tru nghe an"))[0]["code"] == history["proposal"].code
    assert _past(session, history["snapshots"][1][0], SystemFilter(q="luu tru")) == []


def test_the_download_says_how_it_was_made_and_is_audited(client, session, history):
    instant = history["snapshots"][2][0]
    response = client.get(f"/exports/systems.json?as_of={instant.strftime('%Y-%m-%dT%H:%M:%S.%f')}")
    body = json.loads(response.get_data())
    _same(body["systems"], history["snapshots"][2][1])
    assert body["meta"]["count"] == 2 and "reconstructed from the audit trail" in body["meta"]["notes"]
    assert "0 systems registered without a creation event" in body["meta"]["notes"]
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "export.inventory")).one()
    assert event.after["filters"]["as_of"].startswith(instant.strftime("%Y-%m-%dT%H:%M:%S"))
    assert client.get("/exports/systems.csv?as_of=yesterday").status_code == 400
    csv_text = client.get(f"/exports/systems.csv?as_of={instant.date()}&level=province").get_data().decode()
    assert "as_of=" in csv_text.splitlines()[0] and "created_at/updated_at are the times" in csv_text


def test_submitters_get_their_agency_as_it_was(client_for, history):
    submitter = client_for("submitter", agency_id=history["hue"].id)
    instant = history["snapshots"][-1][0].isoformat()
    body = json.loads(submitter.get("/exports/systems.json", query_string={"as_of": instant}).get_data())
    assert {s["owner_agency"] for s in body["systems"]} == {"TU-HUE"} and body["meta"]["count"] == 2


def test_systems_without_a_creation_event_are_named_in_the_metadata(session, history):
    proposal = history["proposal"]
    session.execute(delete(AuditEvent).where(AuditEvent.system_id == proposal.id))
    session.commit()
    scope = as_of.AsOfScope(instant=datetime.now(UTC), flt=SystemFilter())
    assert proposal.code not in {r["code"] for r in as_of.rows(session, scope)}
    assert "1 systems registered without a creation event are not included" in as_of.notes(session, scope)


def test_instants_are_read_as_utc_and_a_day_means_its_end():
    assert as_of.parse_instant("2026-03-01") == datetime(2026, 3, 1, 23, 59, 59, 999999, tzinfo=UTC)
    assert as_of.parse_instant("2026-03-01T08:30") == datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    assert as_of.parse_instant("1 March") is None


def test_the_command_line_exports_as_of(app, history, tmp_path):
    target = tmp_path / "then.json"
    day = history["snapshots"][-1][0].date().isoformat()
    result = app.test_cli_runner().invoke(
        args=["export", "systems", "--format", "json", "--output", str(target), "--as-of", day]
    )
    assert result.exit_code == 0, result.output
    assert "3 systems written" in result.output
    assert len(json.loads(target.read_text(encoding="utf-8"))["systems"]) == 3
    bad = app.test_cli_runner().invoke(args=["export", "systems", "--output", str(target), "--as-of", "x"])
    assert bad.exit_code != 0 and "--as-of" in bad.output


def test_the_as_of_form_shows_the_date_field_and_says_what_is_missing(client, session, history):
    page = client.get("/exports/as-of?level=province")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'type="date" id="as_of"' in html and "data-as-of-error" not in html
    assert 'name="level" value="province"' in html  # the list's filters go on with the form

    missing = client.get("/exports/as-of", query_string={"fmt": "csv", "as_of": "", "level": "province"})
    html = missing.get_data(as_text=True)
    assert missing.status_code == 422 and "data-as-of-error" in html
    assert "Hãy chọn ngày" in html and 'aria-invalid="true"' in html
    assert 'name="level" value="province"' in html

    garbage = client.get("/exports/as-of", query_string={"fmt": "csv", "as_of": "1 March"})
    assert garbage.status_code == 422 and "YYYY-MM-DD" in garbage.get_data(as_text=True)


def test_a_date_before_the_trail_begins_is_refused_on_the_page(client, session, history):
    first = session.scalar(select(AuditEvent.occurred_at).order_by(AuditEvent.seq).limit(1))
    before = (first - timedelta(days=2)).date().isoformat()
    response = client.get("/exports/as-of", query_string={"fmt": "json", "as_of": before, "lang": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "The audit trail begins on" in html
    assert f'value="{before}"' in html  # what was typed stays in the field
    assert not session.scalars(select(AuditEvent).where(AuditEvent.action == "export.inventory")).all()


def test_a_good_date_goes_on_to_the_download_with_the_filters(client, session, history):
    day = datetime.now(UTC).date().isoformat()
    response = client.get("/exports/as-of", query_string={"fmt": "csv", "as_of": day, "level": "province"})
    assert response.status_code == 302
    assert "/exports/systems.csv?" in response.location
    assert f"as_of={day}" in response.location and "level=province" in response.location
    assert client.get("/exports/as-of", query_string={"fmt": "backstage", "as_of": day}).status_code == 404
