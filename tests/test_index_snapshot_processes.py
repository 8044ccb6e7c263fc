"""Two web processes on one database, both mapping one saved index: a save through one is
warned about through the other, in the very next request."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from registry.services import index_snapshot
from registry.services.overlaps import WARNING_THRESHOLD
from tests import test_overlaps
from tests.conftest import OPERATOR, api_tokens

documents = test_overlaps.documents  # three systems, two of them doing the same job

ROOT = Path(__file__).resolve().parent.parent
SERVER = """
import json, logging, sys
from werkzeug.serving import make_server
from registry.factory import create_app

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
app = create_app(json.loads(sys.argv[1]))
app.instance_path = sys.argv[2]
server = make_server("127.0.0.1", 0, app)
print(server.server_port, flush=True)
server.serve_forever()
"""


def start_server(database_url: str, instance: Path, index: Path) -> subprocess.Popen[str]:
    config = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test",
        "AUTO_SETUP": False,
        "INDEX_DIR": str(index),
        "QUEUE_URL": f"sqlite:///{instance / 'queue.sqlite3'}",
        "EMBEDDED_WORKER": False,
    }
    instance.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, json.dumps(config), str(instance)],
        cwd=ROOT,
        # Without the sentence encoder, whose model each process would otherwise load (seconds).
        env={**os.environ, "PYTHONPATH": str(ROOT), "SIMILARITY_SEMANTIC": "off"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process


def address(process: subprocess.Popen[str]) -> str:
    return f"http://127.0.0.1:{process.stdout.readline().strip()}"  # type: ignore[union-attr]


def post(url: str, token: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def test_a_system_saved_through_one_process_is_warned_about_through_another(
    app, session, documents, make_user, tmp_path, database_url
):
    token = api_tokens(session, {"admin": make_user("admin")})["admin"]
    index = index_snapshot.index_dir(app)
    index_snapshot.build_snapshot(session, index, actor=OPERATOR)
    session.commit()
    servers = [start_server(database_url, tmp_path / name, index) for name in ("first", "second")]
    try:
        first, second = (address(process) for process in servers)  # both start at once
        proposal = {
            "name": "Phần mềm quản lý văn bản Tỉnh ủy Quảng Ninh",
            "description": "Quản lý văn bản đến, văn bản đi, hồ sơ công việc của Tỉnh ủy Quảng Ninh.",
            "scope_level": "province",
            "owner_agency": "TU-NAN",
        }
        status, before = post(f"{second}/api/v1/similar", token, proposal)  # its index is loaded
        assert status == 200 and len(before["matches"]) == 3
        status, saved = post(f"{first}/api/v1/systems", token, proposal)
        assert status == 201, saved
        status, after = post(f"{second}/api/v1/similar", token, proposal)
        assert status == 200
        found = {m["code"]: m for m in after["matches"]}
        assert saved["code"] in found, after
        assert found[saved["code"]]["relation"] == "overlap"
        assert found[saved["code"]]["score"] >= WARNING_THRESHOLD
    finally:
        logs = []
        for process in servers:
            process.terminate()
            logs.append(process.communicate(timeout=30)[1])
    # Each process mapped the snapshot rather than fitting its own index.
    assert all("loaded snapshot" in log for log in logs), logs
