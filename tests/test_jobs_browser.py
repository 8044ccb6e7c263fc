"""Background jobs in a real Chromium, with a real Huey consumer thread behind the server."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from registry import jobs as job_queue
from registry.db import get_engine
from registry.factory import create_app
from registry.services.jobs import Progress
from tests.test_browser import SCREENSHOTS, portfolio, sign_in  # noqa: F401 - fixtures
from tests.test_jobs_web import _finished_import

pytestmark = pytest.mark.browser

WIDTHS = ((1400, 900), (390, 844))


@pytest.fixture
def queued_server(app: Flask, tmp_path: Path) -> Iterator[str]:
    """The same database as ``app``, served with CSRF on and jobs run by a consumer thread."""
    served = create_app(
        {
            **app.config,
            "WTF_CSRF_ENABLED": True,
            "TESTING": True,
            "QUEUE_IMMEDIATE": False,
            "QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}",
        }
    )
    queue = job_queue.queue_of(served)
    queue.start_embedded()
    server = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    queue.stop()
    get_engine(served).dispose()


def _slow_scan(engine, progress: Progress, actor, params=None) -> dict[str, int]:
    """Long enough to watch and to cancel on a busy machine: up to a minute, in 600 steps."""
    progress.begin("compare", 600)
    for done in range(1, 601):
        time.sleep(0.1)
        progress(done, 600)
    return {"systems": 600, "pairs": 0, "created": 0, "updated": 0, "removed": 0, "findings": 0}


def test_the_job_page_moves_by_itself_and_cancels(
    page: Page,
    queued_server: str,
    portfolio,  # noqa: F811
    make_user,
    monkeypatch,
) -> None:
    monkeypatch.setitem(job_queue.WORKS, "scan", _slow_scan)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    reviewer = make_user("reviewer")
    sign_in(page, queued_server, reviewer.username, next_path="/jobs/")
    page.get_by_role("button", name="Rà soát danh mục ngay").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator("[data-job-reload]")).to_be_hidden()  # the script updates the page itself
    percent = page.locator("[data-job-percent]")
    expect(page.locator("[data-job-step-label]")).to_contain_text("So sánh các hệ thống")
    first = percent.inner_text()
    expect(percent).not_to_have_text(first, timeout=10_000)  # moved without a reload
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"job-running-{width}.png"), full_page=True)
    page.get_by_role("button", name="Hủy").click()
    expect(page.locator("#job")).to_have_attribute("data-job-state", "cancelled", timeout=15_000)
    expect(page.locator(".badge[data-job-state]")).to_have_text("Đã hủy")
    assert problems == []


def test_a_scan_started_from_an_import_result_ends_with_its_counts(
    page: Page,
    queued_server: str,
    portfolio,  # noqa: F811
    make_user,
    session,
) -> None:
    admin = make_user("admin")
    done_page = _finished_import(session, admin)
    sign_in(page, queued_server, admin.username, next_path=done_page)
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"import-done-{width}.png"), full_page=True)
    page.get_by_role("button", name="Rà soát danh mục ngay").click()
    expect(page.locator("#job")).to_have_attribute("data-job-state", "succeeded", timeout=60_000)
    expect(page.locator('[data-count="systems"]')).to_have_text("3")
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"job-done-{width}.png"), full_page=True)
        page.goto(f"{queued_server}/jobs/")
        expect(page.locator("[data-jobs] tbody tr")).to_have_count(1)
        page.screenshot(path=str(SCREENSHOTS / f"jobs-list-{width}.png"), full_page=True)
        page.go_back()


def test_an_import_commits_as_a_job_and_lands_on_its_result(
    page: Page,
    queued_server: str,
    portfolio,  # noqa: F811
    make_user,
    tmp_path: Path,
) -> None:
    """Upload, preview, import: the job's page follows the worker to the end, then leads to
    the imported systems."""
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    user = make_user("submitter", agency_id=portfolio.province.id)
    listing = tmp_path / "danh-sach.csv"
    listing.write_text(
        "name,description,owner_agency,scope_level\n"
        "Hệ thống lưu trữ hồ sơ điện tử Nghệ An,Lưu trữ hồ sơ điện tử của Tỉnh ủy.,TU-NAN,province\n",
        encoding="utf-8",
    )
    sign_in(page, queued_server, user.username, next_path="/imports/")
    page.get_by_label("Tệp").set_input_files(str(listing))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    page.get_by_role("button", name="Nhập 1 hệ thống").click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.locator("#job")).to_have_attribute("data-job-state", "succeeded", timeout=60_000)
    expect(page.locator('[data-job-result] [data-count="created"]')).to_have_text("1")
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"import-job-done-{width}.png"), full_page=True)
    page.get_by_role("link", name="Xem các hệ thống đã nhập").click()
    expect(page.locator("[data-import=done]")).to_be_visible()
    expect(page.locator("[data-list=created-codes] a")).to_have_count(1)
    assert problems == []


@pytest.fixture
def large_imports(app: Flask) -> None:
    """Every file counts as large: its preview is checked by a job (set before the server starts)."""
    app.config["IMPORT_CHECK_JOB_THRESHOLD"] = 1


def test_a_large_file_is_checked_in_the_background_then_previewed_and_imported(
    page: Page,
    large_imports: None,
    queued_server: str,
    portfolio,  # noqa: F811
    make_user,
    tmp_path: Path,
) -> None:
    """The upload queues the check; the preview page waits for it, reloading, then shows the
    kept preview with the time of the check, and the import goes on as usual."""
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    user = make_user("submitter", agency_id=portfolio.province.id)
    listing = tmp_path / "danh-sach-lon.csv"
    listing.write_text(
        "name,description,owner_agency,scope_level\n"
        "Hệ thống lưu trữ hồ sơ điện tử Nghệ An,Lưu trữ hồ sơ điện tử của Tỉnh ủy.,TU-NAN,province\n"
        "Phần mềm quản lý thi đua Nghệ An,Theo dõi thi đua khen thưởng.,TU-NAN,province\n",
        encoding="utf-8",
    )
    sign_in(page, queued_server, user.username, next_path="/imports/")
    page.get_by_label("Tệp").set_input_files(str(listing))
    page.get_by_role("button", name="Kiểm tra tệp").click()
    expect(page.locator("[data-checked-at]")).to_be_visible(timeout=60_000)  # after a reload or two
    expect(page.locator('[data-count="create"] .fs-4')).to_have_text("2")
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in WIDTHS:
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SCREENSHOTS / f"import-checked-{width}.png"), full_page=True)
    page.get_by_role("button", name="Nhập 2 hệ thống").click()
    expect(page.locator("#job")).to_have_attribute("data-job-state", "succeeded", timeout=60_000)
    expect(page.locator('[data-job-result] [data-count="created"]')).to_have_text("2")
    assert problems == []
