"""Error pages people can read, in their language; JSON errors for the API."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, g, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from registry.db import discard_request_changes
from registry.errors import PermissionDeniedError
from registry.web.access import is_api_request

log = logging.getLogger(__name__)

API_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    429: "too_many_requests",
    500: "server_error",
}


def _respond(code: int, message: str) -> Any:
    # A server error shows its request id, so a user can quote it and the operator can find
    # every log line of that request.
    request_id = g.get("request_id") if code >= 500 else None
    if is_api_request():
        from registry.web.api import api_error

        extra = {"request_id": request_id} if request_id else {}
        return api_error(code, API_CODES.get(code, "error"), message, **extra)
    return render_template("error.html", code=code, message=message, request_id=request_id), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        message = gettext(
            "Your form expired or was sent from another page. "
            "Nothing was saved; go back, reload and try again."
        )
        return _respond(400, message)

    @app.errorhandler(PermissionDeniedError)
    def permission_denied(error: PermissionDeniedError) -> Any:
        return _respond(403, str(error.message))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        messages = {
            403: gettext("You are not allowed to do this."),
            404: gettext("This page or record does not exist."),
            405: gettext("This action is not allowed here."),
            413: gettext("The data sent is too large."),
        }
        code = error.code or 500
        default = error.description if error.description != type(error).description else None
        return _respond(code, default or messages.get(code, error.description))

    @app.errorhandler(500)
    def server_error(error: Exception) -> Any:
        # An unhandled exception was already logged by Flask, with its traceback and the
        # request id; an abort(500) (a view that caught a failure) was not: log it here.
        if getattr(error, "original_exception", None) is None:
            log.error("Server error on %s %s", request.method, request.path, exc_info=error)
        discard_request_changes()
        message = gettext("Something went wrong on our side. Nothing was saved; please try again.")
        return _respond(500, message)
