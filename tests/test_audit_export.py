"""The exported audit trail: the hashed values as they are hashed, verifiable from the file alone."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from registry.models import AuditEvent
from registry.services.systems import SystemInput, update_system
from tests.conftest import OPERATOR

DOC = Path(__file__).resolve().parent.parent / "docs" / "audit-trail.md"


@pytest.fixture
def verifier(tmp_path) -> Path:
    """The standalone script of docs/audit-trail.md, "Verifying an exported trail", as written."""
    section = DOC.read_text(encoding="utf-8").split("## Verifying an exported trail", 1)[1]
    script = tmp_path / "verify_trail.py"
    script.write_text(re.search(r"```python\n(.*?)```", section, re.S).group(1), encoding="utf-8")
    return script


def _run(script: Path, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def trail(make_system, session):
    """A few events whose text starts like formulas, with quotes, accents and nulls."""
    first = make_system(name="=Hệ thống “điều hành” tác nghiệp", description="-giảm giấy tờ")
    make_system(name="'Cổng thông tin điện tử")
    values = SystemInput.from_system(first)
    values.description = "@Văn bản đến, văn bản đi"
    update_system(session, first, values, actor=OPERATOR, expected_version=first.version)
    session.commit()
    return first


def test_the_jsonl_export_verifies_with_the_documented_script(client_for, trail, tmp_path, verifier):
    auditor = client_for("auditor")
    response = auditor.get("/exports/audit-trail.jsonl")
    assert response.status_code == 200 and response.mimetype == "application/jsonl"
    path = tmp_path / "trail.jsonl"
    path.write_bytes(response.get_data())
    lines = path.read_text(encoding="utf-8").splitlines()
    meta = json.loads(lines[0])["meta"]
    assert meta["exported_by"].startswith("auditor") and meta["count"] == len(lines) - 1
    assert meta["starts_after"] == {"seq": 0, "hash": "0" * 64}
    last = json.loads(lines[-1])
    assert last["action"] == "export.audit_trail" and meta["ends_at"]["hash"] == last["hash"]
    done = _run(verifier, path)
    assert done.returncode == 0 and done.stdout.startswith("intact: events #1 to "), done.stdout + done.stderr

    edited = lines[:]
    event = json.loads(edited[2])
    event["object_label"] = "Hệ thống khác"
    edited[2] = json.dumps(event, ensure_ascii=False)
    path.write_text("\n".join(edited) + "\n", encoding="utf-8")
    done = _run(verifier, path)
    assert done.returncode == 1 and f"event #{event['seq']}: content changed" in done.stdout

    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # the last event cut off
    assert "BROKEN: the file stops" in _run(verifier, path).stdout


def test_the_csv_export_verifies_and_escapes_reversibly(client, trail, tmp_path, verifier):
    path = tmp_path / "trail.csv"
    path.write_bytes(client.get("/exports/audit-trail.csv").get_data())
    text = path.read_text(encoding="utf-8-sig")
    assert "'=Hệ thống “điều hành”" in text and "''Cổng thông tin" in text
    done = _run(verifier, path)
    assert done.returncode == 0 and done.stdout.startswith("intact"), done.stdout + done.stderr

    rows = list(csv.reader(io.StringIO(text)))
    header = rows[1]
    rows[3][header.index("before")] = rows[3][header.index("before")].replace("draft", "approved")
    rows[3][header.index("after")] = rows[3][header.index("after")].replace("draft", "approved")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")
    done = _run(verifier, path)
    assert done.returncode == 1 and "content changed" in done.stdout


def test_a_period_export_verifies_from_the_event_before_it(client, trail, session, tmp_path, verifier):
    events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    # Move the first events into an earlier day: the period export must start after them.
    earlier = datetime.now(UTC) - timedelta(days=3)
    for event in events[:2]:
        session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(occurred_at=earlier))
    session.commit()
    today = datetime.now(UTC).date().isoformat()
    path = tmp_path / "period.jsonl"
    path.write_bytes(client.get(f"/exports/audit-trail.jsonl?since={today}&until={today}").get_data())
    lines = path.read_text(encoding="utf-8").splitlines()
    meta = json.loads(lines[0])["meta"]
    assert meta["starts_after"] == {"seq": events[1].seq, "hash": events[1].hash}
    assert json.loads(lines[1])["seq"] == events[2].seq
    assert meta["filters"]["since"].startswith(today)
    # The dates were moved after hashing, so the whole chain no longer verifies, but the period
    # (whose events were not touched) does, anchored on the hash of the event before it.
    done = _run(verifier, path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"after event #{events[1].seq} {events[1].hash}" in done.stdout


def test_only_auditors_and_admins_take_the_trail_out(client_for, trail, session):
    assert client_for("reviewer").get("/exports/audit-trail.csv").status_code == 403
    submitter = client_for("submitter", agency_id=trail.owner_agency_id)
    assert submitter.get("/exports/audit-trail.jsonl").status_code == 403
    assert client_for("auditor").get("/exports/audit-trail.xlsx").status_code == 404
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "export.audit_trail"))
    assert event is None


def test_the_command_line_exports_the_trail(app, trail, tmp_path, verifier):
    target = tmp_path / "trail.csv"
    result = app.test_cli_runner().invoke(
        args=["export", "audit-trail", "--format", "csv", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ events written", result.output)
    assert _run(verifier, target).returncode == 0
