"""The dependency explorer: a system's neighbourhood drawn, and the same as a list."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.choices import AgencyLevel, DependencyKind, SystemStatus
from registry.db import get_session
from registry.errors import NotFoundError, ValidationError
from registry.filters import SystemFilter, list_systems
from registry.services import api_lists, graph
from registry.web import access
from registry.web.templating import current_locale

bp = Blueprint("graph", __name__, url_prefix="/graph")

FLAGGED_SHOWN = 10
"""Systems listed per overlay on the explorer's start page; the findings API pages the rest."""
RELATIONS = [*(kind.value for kind in DependencyKind), graph.INSTANCE_OF, graph.VARIOUS]


def legend() -> dict[str, Any]:
    """What the page's legend and switches name: statuses, levels, relations."""
    return {
        "statuses": [(status.value, status.label) for status in SystemStatus],
        "levels": [(level.value, level.label) for level in AgencyLevel],
        "relations": [(kind, graph.kind_label(kind)) for kind in RELATIONS],
    }


def _flagged(rule: str) -> Any:
    return api_lists.list_findings(
        get_session(), rule=rule, locale=current_locale(), page=1, per_page=FLAGGED_SHOWN
    )


@bp.get("/")
@access.allow(Permission.VIEW_PORTFOLIO)
def explorer() -> str | Response:
    """With ``focus``: the neighbourhood, drawn and listed; with ``q``: systems to start from;
    with neither: the search box and the systems the overlays flag."""
    session = get_session()
    focus = (request.args.get("focus") or "").strip().upper()
    query = (request.args.get("q") or "").strip()
    try:
        hops = graph.parse_hops(request.args.get("hops"))
    except ValidationError:
        flash(gettext("Choose from 1 to %(most)s hops.", most=graph.MAX_HOPS), "warning")
        hops = graph.DEFAULT_HOPS
    if query and not focus:
        exact = graph.system_code(session, query)
        if exact:
            return redirect(url_for("graph.explorer", focus=exact, hops=hops))
    view = None
    if focus:
        try:
            view = graph.neighbourhood_graph(session, focus, hops=hops, locale=current_locale())
        except NotFoundError:
            abort(404)
    found = list_systems(session, SystemFilter(q=query, per_page=25)) if query and not focus else None
    return render_template(
        "graph/explorer.html",
        view=view,
        hops=hops,
        max_hops=graph.MAX_HOPS,
        query=query,
        found=found,
        isolated=None if view or query else _flagged("R7"),
        duplicating=None if view or query else _flagged("R6"),
        legend=legend(),
        kind_label=graph.kind_label,
    )
