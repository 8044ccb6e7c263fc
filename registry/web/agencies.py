"""The agency tree: who sits under whom, and how many systems each manages."""

from __future__ import annotations

from flask import Blueprint, render_template

from registry.auth.policy import Permission
from registry.choices import AgencyLevel
from registry.db import get_session
from registry.services.agencies import agency_tree_with_counts
from registry.web import access

bp = Blueprint("agencies", __name__, url_prefix="/agencies")


@bp.get("/")
@access.allow(Permission.VIEW_PORTFOLIO)
def index() -> str:
    roots = agency_tree_with_counts(get_session())
    groups = [(level, [r for r in roots if r.agency.level == level.value]) for level in AgencyLevel]
    return render_template("agencies/index.html", groups=[(lvl, nodes) for lvl, nodes in groups if nodes])
