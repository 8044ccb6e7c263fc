"""Every page of the registry, checked by axe-core at desktop and phone width.

The pages are the app's own GET routes (``url_map``), so a new page is checked without
touching this file. Each is opened as the first demo account, in the order below, that may
open it, with route arguments taken from the demo portfolio. Routes whose answer is not an
HTML page (downloads, the JSON API, the health check) or that only redirect (the language
switch) are skipped, and listed when a test is run with ``-v``.

axe-core is vendored in ``static/vendor/axe-core`` and injected by the browser itself (an init
script), never by a template: the pages keep their Content Security Policy. The API reference
page is checked around its Swagger UI widget, not inside it: that markup is the vendored
library's, and changes with it.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from registry.models import Agency, DuplicateWarning, InformationSystem, Job, User
from registry.models.reporting import ReportingRound
from registry.services.overlaps import scan_portfolio
from registry.services.seed import load_seed
from registry.web.access import password_hasher
from tests.conftest import sign_in as client_sign_in
from tests.test_browser import SCREENSHOTS, live_server  # noqa: F401 - fixture

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent.parent / "static" / "vendor" / "axe-core" / "axe.min.js"
DEMO_PASSWORD = "demo-registry-2026"
ROLES = ("thanhhoa", "thuongtruc", "kiemtoan", "admin")
"""Submitter, reviewer, auditor, administrator: a page is visited as the first who may open it."""
WIDTHS = {"desktop": (1400, 900), "phone": (390, 844)}
IMPACTS = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await axe.run({exclude: [[".swagger-ui"]]}, {
    resultTypes: ["violations"],
    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
  });
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => ({id: v.id, impact: v.impact, help: v.help,
                  targets: v.nodes.slice(0, 4).map((n) => n.target.join(" ")),
                  summary: ((v.nodes[0] && v.nodes[0].failureSummary) || "")
                    .split("\\n").slice(0, 3).join(" ")}));
}"""
OVERFLOW = """() => Math.max(...[document.documentElement, ...document.querySelectorAll(".table-responsive")]
  .filter((e) => e.offsetParent !== null || e === document.documentElement)
  .map((e) => e.scrollWidth - e.clientWidth))"""
"""How far the page, or a table's scrolling box, scrolls sideways."""


@dataclass(frozen=True)
class Visit:
    endpoint: str
    path: str
    role: str | None
    """None: opened signed out (the sign-in page)."""


def _candidates(session: Any, upload_token: str) -> dict[str, list[Any]]:
    """Values to try for each route argument, from the demo portfolio."""
    tha = session.scalar(select(Agency).where(Agency.code == "TU-THA"))

    def codes(*conditions: Any) -> list[str]:
        query = select(InformationSystem.code).where(*conditions).order_by(InformationSystem.id).limit(1)
        return list(session.scalars(query))

    # A warning on a proposal, as the review queue leads to: its compare page needs both ids.
    warning = session.scalar(
        select(DuplicateWarning)
        .join(InformationSystem, InformationSystem.id == DuplicateWarning.system_a_id)
        .order_by(InformationSystem.status.in_(["submitted", "in_review"]).desc(), DuplicateWarning.id)
        .limit(1)
    )
    in_review = codes(InformationSystem.id == warning.system_a_id) if warning else []
    warnings = [warning.id] if warning else []
    return {
        "code": [
            *codes(InformationSystem.owner_agency_id == tha.id, InformationSystem.status == "draft"),
            *codes(InformationSystem.owner_agency_id == tha.id, InformationSystem.status == "in_operation"),
            *in_review,
            tha.code,
            "en",
        ],
        "warning_id": warnings,
        "round_id": list(session.scalars(select(ReportingRound.id).order_by(ReportingRound.id).limit(1))),
        "user_id": list(session.scalars(select(User.id).where(User.username == "thanhhoa"))),
        "token": [upload_token],
        "job_id": list(session.scalars(select(Job.id).order_by(Job.id).limit(1))),
    }


DOWNLOAD = re.compile(r"(\.(<[^>]+>|[a-z]+)|/download)$")
"""A route ending in a file extension (``/exports/systems.<fmt>``, ``/scorecards.csv``) or in
``/download`` (an export job's file)."""


def _pages(app: Flask, clients: dict[str | None, FlaskClient], values: dict[str, list[Any]]) -> Iterator[Any]:
    """Each GET route as a :class:`Visit`, or as ``(endpoint, why)`` when it is no page to check."""
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
            if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
                continue
            if DOWNLOAD.search(rule.rule):
                yield rule.endpoint, "a download"
                continue
            names = sorted(rule.arguments)
            combos = [
                dict(zip(names, combo, strict=True))
                for combo in itertools.product(*(values.get(name, []) for name in names))
            ]
            result: Visit | tuple[str, str] = (rule.endpoint, "NO ROLE OR ARGUMENTS OPEN IT")
            for role, combo in itertools.product((None, *ROLES), combos):
                path = url_for(rule.endpoint, **combo)
                response = clients[role].get(path)
                kind = response.headers.get("Content-Type", "").split(";")[0]
                if response.status_code == 200:
                    html = kind == "text/html"
                    result = Visit(rule.endpoint, path, role) if html else (rule.endpoint, f"answers {kind}")
                    break
                if response.status_code in (302, 303) and "/login" not in (response.location or ""):
                    result = (rule.endpoint, "only redirects")
                    break
            if rule.rule.startswith("/api/") and isinstance(result, tuple):
                result = (rule.endpoint, "an API resource")
            yield result


def test_every_page_passes_axe_at_both_widths(
    app: Flask,
    session,
    browser: Browser,
    live_server: str,  # noqa: F811 - the fixture imported above
) -> None:
    started = time.monotonic()
    load_seed(session, demo_users=True, hasher=password_hasher(app))
    scan_portfolio(session)  # as the first start does: the warnings the review pages show
    # A finished scan, as the reviewer who started it from an import result would follow it.
    reviewer = session.scalar(select(User).where(User.username == "thuongtruc"))
    session.add(
        Job(
            kind="scan",
            state="succeeded",
            dedupe_key="scan",
            started_by_id=reviewer.id,
            started_by_label=reviewer.username,
            done=1,
            total=1,
            counts={"systems": 212, "pairs": 15, "created": 12, "updated": 3, "removed": 0, "findings": 40},
        )
    )
    session.commit()
    clients: dict[str | None, FlaskClient] = {None: app.test_client()}
    for role in ROLES:
        clients[role] = client_sign_in(app.test_client(), role, DEMO_PASSWORD)
    # An import waiting for confirmation: thanhhoa's own systems, exported and uploaded again.
    exported = clients["thanhhoa"].get("/exports/systems.csv").get_data()
    staged = clients["thanhhoa"].post(
        "/imports/", data={"file": (BytesIO(exported), "systems.csv")}, content_type="multipart/form-data"
    )
    token = staged.headers["Location"].rstrip("/").rsplit("/", 1)[-1]
    listed = list(_pages(app, clients, _candidates(session, token)))
    unopened = [e for e in listed if isinstance(e, tuple) and e[1].startswith("NO ROLE")]
    assert not unopened, f"pages no demo account could open with the demo data: {unopened}"
    visits = [v for v in listed if isinstance(v, Visit)]
    skipped = sorted(e for e in listed if isinstance(e, tuple))
    print("\nskipped:", *(f"  {endpoint}: {why}" for endpoint, why in skipped), sep="\n")
    assert {"systems.index", "review.compare", "imports.preview", "auth.login"} <= {
        v.endpoint for v in visits
    }

    shots = SCREENSHOTS / "a11y"
    shots.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for role in (None, *ROLES):
        mine = [v for v in visits if v.role == role]
        if not mine:
            continue
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="vi-VN")
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        if role is not None:
            _browser_sign_in(page, live_server, role)
        for visit in mine:
            for width, (w, h) in WIDTHS.items():
                page.set_viewport_size({"width": w, "height": h})
                page.goto(f"{live_server}{visit.path}")
                where = f"{visit.endpoint} {visit.path} as {role or 'anonymous'} at {width} width"
                for v in page.evaluate(RUN_AXE):
                    problems.append(
                        f"{where}: {v['id']} ({v['impact']}) {v['help']} — {v['targets']} {v['summary']}"
                    )
                overflow = page.evaluate(OVERFLOW)
                if width == "phone" and overflow > 1:
                    problems.append(f"{where}: the page scrolls sideways by {overflow}px")
                name = re.sub(r"[^a-z0-9]+", "-", f"{visit.endpoint}-{width}".lower())
                page.screenshot(path=str(shots / f"{name}.png"))
        context.close()
    print(f"checked {len(visits)} pages at {len(WIDTHS)} widths in {time.monotonic() - started:.0f} s")
    assert not problems, "accessibility or layout problems:\n" + "\n".join(problems)


def _browser_sign_in(page: Page, server: str, username: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.locator(f"[data-account='{username}']")).to_be_visible()
