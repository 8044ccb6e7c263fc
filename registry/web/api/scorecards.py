"""Agency scorecards: one row per agency of a level, paged like the other lists, and one agency's."""

from __future__ import annotations

from flask import jsonify
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError
from registry.services import scorecards as sc
from registry.web import access
from registry.web.api import bp, fail, page_response, read_query
from registry.web.api import schemas as s
from registry.web.api.openapi import operation
from registry.web.templating import current_locale


@bp.get("/scorecards")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation(
    "List agency scorecards", tag="agencies", query=s.ScorecardListQuery, responses={200: s.ScorecardPage}
)
def scorecards_list() -> Response:
    """Every agency of the level, best composite score first (agencies without one last), with
    its figures rolled up from the agencies below it; agencies with no systems have a row too."""
    query = read_query(s.ScorecardListQuery)
    found = sc.list_scorecards(
        get_session(),
        level=query.level.value,
        block=query.block.value if query.block else None,
        parent=query.parent,
        page=query.page,
        per_page=query.per_page,
        locale=current_locale(),
    )
    items = [sc.row_record(row, current_locale()) for row in found.items]
    return page_response("api.scorecards_list", query, items, found.total)


@bp.get("/scorecards/<code>")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation("Read an agency's scorecard", tag="agencies", responses={200: s.ScorecardDetail})
def scorecard_detail(code: str) -> Response:
    """The agency's figures, its own systems alone, its level's medians, its children's rows and
    the definition of every indicator."""
    try:
        card = sc.get_scorecard(get_session(), code)
    except NotFoundError:
        fail(404, "not_found", "No agency has this code.")
    locale = current_locale()
    return jsonify(
        **sc.row_record(card.row, locale),
        own_indicators=card.own_values,
        level_median=card.median,
        level_size=card.level_size,
        children=[sc.row_record(child, locale) for child in card.children],
        definitions=sc.definitions(),
        score_definition=str(sc.SCORE_DEFINITION),
        scope_definition=str(sc.SCOPE_DEFINITION),
    )
