"""The overlap index fitted once, saved, and mapped by every worker that starts afterwards."""

from __future__ import annotations

import json
import logging
import threading

import pytest
from sqlalchemy import delete, select

from registry.auth.actor import actor_name
from registry.choices import JobKind, JobState
from registry.models import AuditEvent, Job
from registry.services import index_snapshot
from registry.services.overlaps import PortfolioIndex, check_system, portfolio_index
from registry.services.vectors import VectorTable
from similarity import snapshot
from tests import test_overlaps
from tests.conftest import OPERATOR

documents = test_overlaps.documents  # three systems, two of them doing the same job

NEAR_COPY = {
    "name": "Hệ thống quản lý văn bản Tỉnh ủy Quảng Ninh",
    "description": "Quản lý văn bản đến, văn bản đi và hồ sơ công việc của Tỉnh ủy.",
    "status": "in_operation",
    "scope_level": "province",
}


@pytest.fixture
def directory(app):
    return index_snapshot.index_dir(app)


def built(session, directory):
    report = index_snapshot.build_snapshot(session, directory, actor=OPERATOR)
    session.commit()
    return report


def worker(session, directory) -> PortfolioIndex:
    """A web worker's index, starting with nothing in memory."""
    return PortfolioIndex(VectorTable(session.get_bind()), snapshots=lambda: directory)


def test_the_snapshot_lives_in_the_instance_folder_unless_configured(app, tmp_path):
    assert index_snapshot.index_dir(app) == tmp_path / "overlap-index"
    app.config["INDEX_DIR"] = str(tmp_path / "shared")
    assert index_snapshot.index_dir(app) == tmp_path / "shared"


def test_a_worker_maps_the_snapshot_and_catches_up_with_saves_made_since(
    session, documents, make_system, directory
):
    report = built(session, directory)
    assert report.systems == 3 and report.path.parent == directory
    later = make_system(**NEAR_COPY, owner_agency_id=documents[0].owner_agency_id)  # after the snapshot
    index = worker(session, directory)
    finder = index.current(session)
    assert index.source == "snapshot"
    assert finder.records_[-1].id == later.id  # caught up by update, not refitted
    warned = {w.system_a_id for w in check_system(session, later, index)} | {
        w.system_b_id for w in check_system(session, later, index)
    }
    assert documents[0].id in warned


def test_answers_from_the_snapshot_equal_a_fitted_worker_s(session, documents, directory):
    built(session, directory)
    probe = {"name": "Quản lý văn bản", "description": "Văn bản đến, văn bản đi, hồ sơ công việc"}
    mapped, fitted = worker(session, directory), PortfolioIndex(VectorTable(session.get_bind()))
    assert mapped.current(session).query(probe) == fitted.current(session).query(probe)
    assert mapped.source == "snapshot" and fitted.source == "fit"


def _rewrite(path, change):
    path.chmod(0o644)
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def _other_detector(text: str) -> str:
    manifest = json.loads(text)
    manifest["meta"]["detector_version"] = "an-older-detector"
    return json.dumps(manifest)


def _meta(**changes):
    def change(text: str) -> str:
        manifest = json.loads(text)
        manifest["meta"].update(changes)
        return json.dumps(manifest)

    return change


@pytest.mark.parametrize(
    ("change", "logged"),
    [
        (lambda t: t.replace('"format": 1', '"format": 0'), "snapshot format 0"),
        (lambda t: "{not json", "cannot be read"),
        (_other_detector, "an-older-detector"),
        # Another registry's index in a shared folder: its systems would be warned about here.
        (_meta(database="0" * 64), "another database"),
        # This database restored from a backup older than the snapshot.
        (_meta(watermark="2999-01-01T00:00:00+00:00"), "newer than the database"),
    ],
)
def test_an_unusable_snapshot_is_logged_and_the_worker_fits_instead(
    session, documents, directory, caplog, change, logged
):
    report = built(session, directory)
    _rewrite(report.path / snapshot.MANIFEST, change)
    index = worker(session, directory)
    with caplog.at_level(logging.WARNING, logger="registry.services.overlaps"):
        finder = index.current(session)
    assert index.source == "fit"
    assert [r for r in caplog.records if r.levelno == logging.WARNING and logged in r.getMessage()]
    assert documents[1].id in [m["id"] for m in finder.query({"name": documents[0].name}, k=3)]


def test_a_snapshot_of_a_registry_with_an_empty_audit_trail_is_still_its_own(session, documents, directory):
    session.execute(delete(AuditEvent))  # filled by a bulk load: no event recorded yet
    session.commit()
    built(session, directory)
    index = worker(session, directory)
    index.current(session)
    assert index.source == "snapshot"  # the build's own event names the registry


def test_build_and_status_commands(app, session, documents):
    runner = app.test_cli_runner()
    assert "no usable snapshot" in runner.invoke(args=["index", "status"]).output
    result = runner.invoke(args=["index", "build"])
    assert result.exit_code == 0, result.output
    assert "Overlap index of 3 systems saved" in result.output
    status = runner.invoke(args=["index", "status"])
    assert status.exit_code == 0 and "3 systems" in status.output and "0 systems saved since" in status.output
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "overlap.index_build")).one()
    assert event.after["systems"] == 3


def test_the_build_runs_as_a_job(app, session, documents, directory, client):
    with app.test_request_context():
        job, new = index_snapshot.start_build(session, OPERATOR)
        session.commit()  # the queue (immediate in tests) runs it once committed
    session.refresh(job)
    assert new and job.kind == JobKind.INDEX and job.state == JobState.SUCCEEDED, job.error
    assert job.counts["systems"] == 3
    assert snapshot.load(directory, vectors=VectorTable(session.get_bind())).meta["systems"] == 3
    page = client.get(f"/jobs/{job.id}").text
    assert 'data-count="systems">3<' in page and 'data-count="pairs"' not in page  # not a scan's result
    assert "Xây dựng chỉ mục trùng lặp" in page
    assert "Hệ thống sổ đăng ký (chỉ mục trùng lặp)" not in page  # started by a person here


def test_the_server_s_own_actors_are_named_in_the_reader_s_language(app, session, client, make_user):
    with app.test_request_context():
        job, _new = index_snapshot.start_build(session)  # as a worker without a snapshot asks
        session.commit()
    page = client.get(f"/jobs/{job.id}").text
    assert "Hệ thống sổ đăng ký (chỉ mục trùng lặp)" in page and ">index<" not in page
    assert "Hệ thống sổ đăng ký (chỉ mục trùng lặp)" in client.get("/audit/").text
    # An account that happens to be called so keeps its name.
    assert actor_name("index", make_user("admin", username="index").id) == "index"


def _request_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "index-snapshot-request"]


def test_a_worker_that_had_to_fit_asks_the_queue_for_a_snapshot(app, session, documents, directory):
    app.config["QUEUE_IMMEDIATE"] = False  # a real queue; the test's still runs the job at once
    portfolio_index().reset()  # as a worker starting
    portfolio_index().current(session)
    session.commit()
    for thread in _request_threads():
        thread.join(30)
    assert portfolio_index().source == "fit"
    job = session.scalars(select(Job).where(Job.kind == JobKind.INDEX)).one()
    assert job.state == JobState.SUCCEEDED, job.error
    assert snapshot.current_path(directory).is_dir()
    app.config["INDEX_AUTO_BUILD"] = False
    assert not index_snapshot.can_request(app)


def test_without_a_live_queue_nothing_is_requested(app, session, documents):
    portfolio_index().reset()
    portfolio_index().current(session)
    assert not _request_threads()
    assert session.scalars(select(Job)).all() == []
