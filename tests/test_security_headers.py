"""Security headers on every kind of response, and a policy the pages really satisfy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "path", ["/systems/", "/login", "/static/css/app.css", "/api/v1/me", "/no-such-page"]
)
def test_every_response_carries_the_security_headers(client, path):
    with client.get(path) as response:
        headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert re.fullmatch(r"[0-9a-f]{32}", headers["X-Request-ID"])


def test_pages_are_not_cached_but_assets_are(client):
    assert client.get("/systems/").headers["Cache-Control"] == "no-store"
    with client.get("/static/css/app.css") as asset:
        assert asset.headers.get("Cache-Control") != "no-store"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/systems/").headers
    secure = client.get("/systems/", base_url="https://registry.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_a_sane_request_id_from_the_proxy_is_kept_and_a_hostile_one_replaced(client):
    assert (
        client.get("/healthz", headers={"X-Request-ID": "proxy-abc-12345"}).headers["X-Request-ID"]
        == "proxy-abc-12345"
    )
    replaced = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"}).headers[
        "X-Request-ID"
    ]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_templates_need_no_inline_script_or_style():
    """The CSP forbids inline code; a template that used it would silently break in browsers.

    A JSON data block (``<script type="application/json">``) is data, never run, so the CSP
    does not apply to it: the graph pictures hand their neighbourhood to the script that way."""
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        source = template.read_text(encoding="utf-8")
        if (
            re.search(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", source)
            or re.search(r"\sstyle=", source)
            or re.search(r"\son[a-z]+=", source)
        ):
            offenders.append(template.name)
    assert offenders == []
