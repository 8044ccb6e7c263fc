"""The REST API under ``/api/v1``: the blueprint, its error shape and request helpers.

Clients authenticate with ``Authorization: Bearer <token>`` (no CSRF needed: a browser never
adds that header on its own) or, from the registry's own pages, with the session cookie plus
the ``X-CSRFToken`` header. Errors always have the shape ``{"error": {"code", "message",
"fields"?}}``. Every view is described for the OpenAPI document (:mod:`.openapi`), served at
``/api/v1/openapi.json`` and browsable at ``/api/v1/docs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn, TypeVar

from flask import Blueprint, abort, jsonify, request, url_for
from pydantic import BaseModel
from pydantic import ValidationError as InputError
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from registry import jsonlimits
from registry.db import get_session
from registry.errors import NotFoundError, StaleEditError, ValidationError
from registry.models import InformationSystem
from registry.services.systems import get_system
from registry.web.api.schemas import PageQuery

bp = Blueprint("api", __name__, url_prefix="/api/v1")

M = TypeVar("M", bound=BaseModel)


def api_error(
    status: int, code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    body.update(extra)
    response = jsonify(error=body)
    response.status_code = status
    return response


class ApiAbort(HTTPException):
    """Stop a view with a ready JSON error response."""

    def __init__(self, response: Response):
        super().__init__(response=response)


def fail(status: int, code: str, message: str, **extra: Any) -> NoReturn:
    raise ApiAbort(api_error(status, code, message, **extra))


def invalid(exc: ValidationError) -> Response:
    fields = {name: [str(m) for m in messages] for name, messages in exc.errors.items()}
    return api_error(422, "invalid", "Some fields are not valid.", fields)


def stale(exc: StaleEditError) -> Response:
    return api_error(
        409,
        "conflict",
        "The record changed since you read it: read it again, then repeat your change.",
        current_version=exc.current_version,
    )


def _clean(value: Any) -> bool:
    """No NUL characters or lone surrogates: the databases cannot store or compare them."""
    if isinstance(value, str):
        return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
    if isinstance(value, list):
        return all(_clean(v) for v in value)
    if isinstance(value, dict):
        return all(_clean(k) and _clean(v) for k, v in value.items())
    return True


@bp.before_request
def _refuse_unstorable_text() -> Response | None:
    if not (_clean(request.path) and all(_clean(k) and _clean(v) for k, v in request.args.items(multi=True))):
        return api_error(400, "bad_request", "The URL contains characters that cannot be stored.")
    return None


def request_json() -> Any:
    """The request's JSON body, None when it is not JSON, or a 400 error when it nests too deep."""
    if not request.is_json:
        return None
    try:
        return jsonlimits.loads(request.get_data(cache=True))
    except jsonlimits.TooDeepError as exc:
        fail(
            400,
            "bad_request",
            f"The JSON nests more than {exc.max_depth} levels deep; no registry record does.",
        )
    except ValueError:
        return None


def json_object() -> dict[str, Any]:
    """The request's JSON object, or a 400 error."""
    payload = request_json()
    if not isinstance(payload, dict):
        fail(400, "bad_request", "Send a JSON object.")
    if not _clean(payload):
        fail(400, "bad_request", "The JSON contains characters that cannot be stored (NUL).")
    return payload


def load_system(code: str) -> InformationSystem:
    try:
        return get_system(get_session(), code)
    except NotFoundError:
        abort(404)


def page_links(
    endpoint: str, args: Mapping[str, Any], page: int, pages: int, **values: Any
) -> dict[str, Any]:
    """Links to this, the first, last, next and previous pages, keeping the other parameters."""

    def link(number: int) -> str:
        return url_for(endpoint, **values, **{**args, "page": number})

    return {
        "self": link(page),
        "first": link(1),
        "last": link(pages),
        "next": link(page + 1) if page < pages else None,
        "prev": link(page - 1) if page > 1 else None,
    }


def query_args() -> dict[str, Any]:
    """The query string as a dict; repeated parameters (``status``) as lists."""
    return {k: (v if len(v) > 1 else v[0]) for k, v in request.args.lists()}


def read_query(model: type[M]) -> M:
    """Query parameters read by their model; a wrong one is a 400 naming it."""
    try:
        return model.model_validate(query_args())
    except InputError as exc:
        names = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        fail(400, "bad_request", f"Invalid query parameter(s): {', '.join(names)}.")


def page_response(endpoint: str, query: PageQuery, items: list[Any], total: int) -> Response:
    """One page of a list, as every paged list but the systems' answers: the items, the total
    and the links to the other pages, which keep the query's filters. A page past the last
    one is empty."""
    pages = max(1, -(-total // query.per_page))
    args = query.model_dump(exclude_defaults=True, exclude={"page"}, mode="json")
    return jsonify(
        items=items,
        total=total,
        more=False,
        page=query.page,
        per_page=query.per_page,
        pages=pages,
        links=page_links(endpoint, args, query.page, pages),
    )


from registry.web.api import (  # noqa: E402,F401 - register the routes
    docs,
    graph,
    jobs,
    portfolio,
    reference,
    reporting,
    review,
    scorecards,
    stats,
    systems,
)
