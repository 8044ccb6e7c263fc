"""Language selection: Vietnamese by default, English when the user picks it.

The choice is kept in the session (set by ``/lang/<code>``) so it survives navigation;
``?lang=`` on any URL overrides it for that request, which is handy for links and tests.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel

LANGUAGE_KEY = "lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if has_request_context():
        requested = request.args.get("lang")
        if requested in languages:
            return requested
        chosen = session.get(LANGUAGE_KEY)
        if chosen in languages:
            return chosen
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)
