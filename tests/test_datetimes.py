"""One way to show an instant on every page (the zone named), and labels, not codes, in the trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from registry import i18n
from registry.auth.actor import Actor
from registry.config import ConfigError, load_settings
from registry.services import audit
from registry.web.templating import fmt_datetime

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
AD_HOC = re.compile(r"format_datetime\(|strftime\(|isoformat\(|_at\|string|_at\s*\|\s*string")
INSTANT = datetime(2026, 12, 2, 16, 49, 46, 123456, tzinfo=UTC)


def test_no_template_formats_an_instant_its_own_way():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()[:80]}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if AD_HOC.search(line)
    ]
    assert offenders == [], (
        "show instants with the |datetime filter (registry/web/templating.py): " + "; ".join(offenders)
    )


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("vi", "23:49:46 2 thg 12, 2026 (Giờ Việt Nam)"),
        ("en", "Dec 2, 2026, 11:49:46\u202fPM (Vietnam Time)"),
    ],
)
def test_the_filter_names_the_zone_and_carries_the_machine_value(app: Flask, lang, text):
    with app.test_request_context(f"/?lang={lang}"):
        assert str(fmt_datetime(INSTANT)) == f'<time datetime="2026-12-02T23:49:46+07:00">{text}</time>'
        # The database hands SQLite's times back naive: they are UTC.
        assert fmt_datetime(INSTANT.replace(tzinfo=None)) == fmt_datetime(INSTANT)
        assert fmt_datetime(None) == ""


def test_the_zone_is_a_setting(tmp_path):
    assert load_settings(tmp_path, environ={})["BABEL_DEFAULT_TIMEZONE"] == "Asia/Ho_Chi_Minh"
    settings = load_settings(tmp_path, environ={"REGISTRY_TIMEZONE": "Europe/Paris"})
    assert settings["BABEL_DEFAULT_TIMEZONE"] == "Europe/Paris"
    with pytest.raises(ConfigError, match="REGISTRY_TIMEZONE"):
        load_settings(tmp_path, environ={"REGISTRY_TIMEZONE": "Mars/Olympus_Mons"})
    paris = Flask(__name__)
    paris.config.update(settings)
    i18n.init_app(paris)
    with paris.test_request_context("/?lang=en"):
        assert 'datetime="2026-12-02T17:49:46+01:00"' in fmt_datetime(INSTANT)
        assert "Central European" in fmt_datetime(INSTANT)


def test_the_trail_shows_labels_values_and_times_never_codes(client_for, session):
    actor = Actor(label="thuongtruc", role="reviewer")
    audit.record(
        session,
        actor,
        "warning.dispose",
        object_type="warning",
        object_id=1,
        before={"disposition": "open", "reason": None},
        after={"disposition": "confirmed", "reason": "Cùng chức năng", "score": 0.853},
    )
    audit.record(
        session,
        actor,
        "export.inventory",
        object_type="export",
        object_id="xlsx",
        after={"format": "xlsx", "filters": {"status": ["in_operation"], "shared": "yes"}, "systems": 3},
    )
    session.commit()
    page = client_for("auditor").get("/audit/").get_data(as_text=True)
    html = page[page.index("<tbody>") : page.rindex("</tbody>")]  # the events (the filter's values are codes)
    for code in (
        "warning.dispose",
        "export.inventory",
        "in_operation",
        "['",
        ">reason<",
        "confirmed",
        "0.853",
    ):
        assert code not in html, code
    for label in ("Kết luận cảnh báo trùng lặp", "Xuất danh mục hệ thống", "Lý do", "Kết luận", "85%"):
        assert label in html, label
    assert "Trạng thái: Đang vận hành" in html and "Chỉ nền tảng dùng chung" in html
    assert "(Giờ Việt Nam)</time>" in html and "Time (UTC)" not in page
