"""The first start on an empty SQLite database: schema, demo portfolio, scan, step by step."""

from __future__ import annotations

import logging
import re

from sqlalchemy import func, select
from sqlmodel import Session

from registry.db import get_engine
from registry.factory import FIRST_RUN_STEPS, create_app, first_run_setup
from registry.models import InformationSystem


def test_the_first_start_logs_each_step_with_its_counts_and_time(tmp_path, caplog):
    app = create_app(
        {"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.sqlite3'}", "SECRET_KEY": "test"}
    )
    app.config["PASSWORD_HASH_PROFILE"] = "fast-for-tests"
    with caplog.at_level(logging.WARNING, logger="registry.factory"):
        first_run_setup(app)
    steps = [r.getMessage() for r in caplog.records if re.match(r"\s+\d+/\d+ ", r.getMessage())]
    assert [int(m.split("/")[0]) for m in steps] == list(range(1, FIRST_RUN_STEPS + 1))
    assert all(re.search(r"\(\d+\.\d s\)$", m) for m in steps)
    with Session(get_engine(app)) as session:
        systems = session.scalar(select(func.count()).select_from(InformationSystem))
    assert any(f"{systems} systems" in m for m in steps)
    assert re.search(r"overlap scan: \d+ systems compared, \d+ overlapping pairs", steps[-1])
    assert "Demo portfolio ready in" in caplog.text
    get_engine(app).dispose()
