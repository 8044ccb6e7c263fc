"""Error pages people can read, in their language."""

from __future__ import annotations

from flask import Flask, render_template
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        message = gettext(
            "Your form expired or was sent from another page. "
            "Nothing was saved; go back, reload and try again."
        )
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        messages = {
            404: gettext("This page or record does not exist."),
            405: gettext("This action is not allowed here."),
            413: gettext("The data sent is too large."),
        }
        code = error.code or 500
        return render_template("error.html", code=code, message=messages.get(code, error.description)), code

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        message = gettext("Something went wrong on our side. Nothing was saved; please try again.")
        return render_template("error.html", code=500, message=message), 500
