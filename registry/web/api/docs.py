"""The OpenAPI document and the browsable documentation (Swagger UI, served from the registry)."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, render_template
from werkzeug.wrappers import Response

from registry.web import access
from registry.web.api import bp
from registry.web.api.openapi import build_document, operation

DOCUMENT_KEY = "registry.openapi"


def openapi_document() -> dict[str, Any]:
    """Built once per application from its URL map: the routes do not change at run time."""
    document = current_app.extensions.get(DOCUMENT_KEY)
    if document is None:
        document = current_app.extensions[DOCUMENT_KEY] = build_document(current_app)
    return document


@bp.get("/openapi.json")
@access.public
@operation("This API's OpenAPI document", tag="meta", responses={200: "application/json"})
def openapi_json() -> Response:
    """Public: it describes the API, not the registry's data."""
    return jsonify(openapi_document())


@bp.get("/docs")
@access.public
@operation("Browsable documentation", tag="meta", responses={200: "text/html"})
def docs() -> str:
    """Swagger UI over the OpenAPI document; "Try it out" uses the session of the signed-in reader."""
    return render_template("api/docs.html")
