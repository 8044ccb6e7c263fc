"""The home page after sign-in: the portfolio in figures, each chart opening the list behind it.

Every chart is drawn on the server (SVG and plain HTML, so it prints and needs no script), has
its figures as a table for screen readers and as a CSV download, and comes from the same
:func:`registry.services.stats.portfolio_stats` as ``GET /api/v1/stats``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlmodel import col
from werkzeug.wrappers import Response

from registry.auth import policy
from registry.auth.policy import Permission
from registry.choices import Role
from registry.db import get_session
from registry.exports.formats import safe_cell
from registry.filters import QUEUE_AGES
from registry.models import Agency
from registry.services.stats import (
    WAITING_STATUSES,
    Bar,
    Breakdown,
    PortfolioStats,
    is_current,
    portfolio_stats,
)
from registry.web import access
from registry.web.access import current_actor

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

ROLE_ORDER: dict[str, tuple[str, ...]] = {
    Role.REVIEWER: ("waiting", "warnings", "duplicates", "findings", "status", "level", "block"),
    Role.SUBMITTER: ("status", "findings", "warnings", "waiting", "duplicates", "level", "block"),
    Role.AUDITOR: ("status", "findings", "duplicates", "level", "block", "warnings", "waiting"),
}
"""What each role reads first; administrators get the auditor's order."""


def scope_of(args: Any) -> str | None:
    """The agency the figures are limited to: ``scope=all`` for the whole portfolio, an agency
    code for its subtree; by default a submitter sees their own agency, everyone else all."""
    requested = (args.get("scope") or "").strip()[:40]
    if requested == "all":
        return None
    if requested:
        return requested
    actor = current_actor()
    if actor.role == Role.SUBMITTER and actor.agency_id is not None:
        return get_session().get(Agency, actor.agency_id).code  # type: ignore[union-attr]  # a submitter's agency exists
    return None


def render_dashboard() -> str:
    session = get_session()
    scope = scope_of(request.args)
    agency = session.scalars(select(Agency).where(col(Agency.code) == scope)).first() if scope else None
    if scope and agency is None:
        abort(404)
    stats = portfolio_stats(session, agency=scope, app=refreshing_app())
    actor = current_actor()
    order = ROLE_ORDER.get(actor.role or "", ROLE_ORDER[Role.AUDITOR])
    own_agency = session.get(Agency, actor.agency_id) if actor.agency_id else None
    return render_template(
        "dashboard/index.html",
        stats=stats,
        charts=[stats.breakdown(key) for key in order],
        agency=agency,
        own_agency=own_agency,
        link_of=bar_link,
        current=is_current(session, stats),
    )


def refreshing_app() -> Any:
    """The app to recompute stale figures in, in the background; None to recompute in the
    request (``STATS_REFRESH_IN_BACKGROUND``, on unless testing)."""
    config = current_app.config
    if config.get("STATS_REFRESH_IN_BACKGROUND", not config.get("TESTING")):
        return current_app._get_current_object()  # type: ignore[attr-defined]  # the proxy's real app
    return None


def bar_link(chart: Breakdown, bar: Bar) -> str | None:
    """Where a bar leads: the systems list filtered to it, or the review queue for those who
    review (others see the waiting proposals in the systems list)."""
    if chart.target == "round":
        return url_for("reporting.round_page", round_id=chart.round_id, state=bar.key)
    if chart.target == "review":
        if policy.allows(current_actor(), Permission.REVIEW):
            # The waiting bands are the queue's age filter: the bar opens the same proposals.
            return url_for("review.queue", age=bar.key if bar.key in QUEUE_AGES else None)
        return url_for("systems.index", status=list(WAITING_STATUSES))
    return url_for("systems.index", **bar.filter) if bar.filter else None


@bp.get("/<key>.csv")
@access.allow(Permission.VIEW_PORTFOLIO)
def chart_csv(key: str) -> Response:
    stats = portfolio_stats(get_session(), agency=scope_of(request.args), app=refreshing_app())
    rows = trend_rows(stats) if key == "trend" else breakdown_rows(stats, key)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows([[safe_cell(v) for v in row] for row in rows])
    stem = f"{key}-{stats.scope or 'all'}-{stats.computed_at:%Y%m%d}"
    return Response(
        buffer.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="registry-{stem}.csv"'},
    )


def breakdown_rows(stats: PortfolioStats, key: str) -> list[list[Any]]:
    charts = {chart.key: chart for chart in stats.breakdowns}
    charts.update({f"round-{standing.id}": standing.states for standing in stats.rounds})
    chart = charts.get(key)
    if chart is None:
        abort(404)
    money = any(bar.amount_vnd is not None for bar in chart.bars)
    header = ["key", _("Category"), _("Count")] + ([_("Estimated cost (VND)")] if money else [])
    return [header] + [
        [bar.key, str(bar.label), bar.value] + ([bar.amount_vnd or 0] if money else []) for bar in chart.bars
    ]


def trend_rows(stats: PortfolioStats) -> list[list[Any]]:
    keys = list(stats.trend.series)
    header = [_("Month")] + [str(stats.trend.labels[k]) for k in keys]
    return [header] + [
        [month.strftime("%Y-%m")] + [stats.trend.series[k][i] for k in keys]
        for i, month in enumerate(stats.trend.months)
    ]
