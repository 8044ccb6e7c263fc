"""The dependency graph around one system, for the explorer and for other tools."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from registry.auth.policy import Permission
from registry.db import get_session
from registry.errors import NotFoundError, ValidationError
from registry.services import graph
from registry.web import access
from registry.web.api import api_error, bp, invalid
from registry.web.api import schemas as s
from registry.web.api.openapi import operation
from registry.web.templating import current_locale


@bp.get("/graph")
@access.allow(Permission.VIEW_PORTFOLIO)
@operation(
    "A system's neighbourhood",
    tag="dependencies",
    query=s.GraphQuery,
    responses={200: s.Graph},
    errors=(404, 422),
)
def graph_neighbourhood() -> Response:
    """The systems within `hops` connections of `focus` (dependencies both ways and deployments
    of shared platforms), at most `cap` nodes: when a platform has more consumers than fit,
    they are collapsed into one node per owner agency, province or level, listed in
    `collapsed`. Nodes carry the R6 and R7 overlays from the stored findings. An unknown code is
    a 404; `hops` outside 1 to 3, or no `focus`, a 422."""
    focus = (request.args.get("focus") or "").strip()
    try:
        hops = graph.parse_hops(request.args.get("hops"))
        if not focus:
            raise ValidationError({"focus": [_l("Give the code of the system to centre on.")]})
        view = graph.neighbourhood_graph(get_session(), focus, hops=hops, locale=current_locale())
    except ValidationError as exc:
        return invalid(exc)
    except NotFoundError:
        return api_error(404, "not_found", f"No system has the code {focus}.")
    return jsonify(view.as_dict())
