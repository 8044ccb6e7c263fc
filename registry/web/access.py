"""Who may open which page: sign-in, roles per view, CSRF, API tokens.

Every view declares its rule with :func:`allow`, :func:`signed_in` or :func:`public`. The app
refuses to start if one does not, and one ``before_request`` hook enforces the rules, so a new
page cannot be forgotten open. Object-level checks (this agency's system, in this status) stay
in the services, which views call with :func:`current_actor`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import Flask, current_app, g, jsonify, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Forbidden

from registry.auth import policy
from registry.auth.actor import Actor
from registry.auth.passwords import PasswordHasher
from registry.choices import TokenScope
from registry.db import get_session
from registry.models import User
from registry.services.tokens import authenticate_token

ACCESS_ATTR = "_registry_access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGNED_IN_AT = "signed_in_at"
HASHER_KEY = "registry.password_hasher"

F = TypeVar("F", bound=Callable[..., Any])

csrf = CSRFProtect()
login_manager = LoginManager()


@dataclass(frozen=True)
class AccessRule:
    public: bool = False
    permission: policy.Permission | None = None
    reads_only: bool = False
    """True for a POST that only queries (its body is a question too long for a URL): a
    read-only token may send it."""
    max_body: int | None = None
    """A larger request body than the app-wide limit (an upload). Set before the CSRF check
    reads the form, which would otherwise refuse the body under the smaller limit."""

    def admits(self, actor: Actor) -> bool:
        return self.public or self.permission is None or policy.allows(actor, self.permission)


def _declare(rule: AccessRule) -> Callable[[F], F]:
    def mark(view: F) -> F:
        setattr(view, ACCESS_ATTR, rule)
        return view

    return mark


def public(view: F) -> F:
    """Open to anonymous visitors: the login page, the health check, the language switch."""
    return _declare(AccessRule(public=True))(view)


def signed_in(view: F) -> F:
    """Open to every signed-in account, whatever its role (sign out, one's own account)."""
    return _declare(AccessRule())(view)


def allow(
    permission: policy.Permission, *, reads_only: bool = False, max_body: int | None = None
) -> Callable[[F], F]:
    """Open to the roles that hold ``permission`` (see :mod:`registry.auth.policy`).

    ``reads_only`` marks a view that changes nothing whatever its method, so read-only API
    tokens may call it; ``max_body`` raises the request size limit for an upload page.
    """
    return _declare(AccessRule(permission=permission, reads_only=reads_only, max_body=max_body))


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def password_hasher(app: Flask | None = None) -> PasswordHasher:
    return (app or current_app).extensions[HASHER_KEY]


def current_actor() -> Actor:
    user: User = current_user  # type: ignore[assignment]
    return Actor.of(user, scope=g.get("token_scope", TokenScope.WRITE), request_id=g.get("request_id"))


def demo_accounts_allowed() -> bool:
    return current_app.config["REGISTRY_ENV"] != "production"


def _load_session_user(identifier: str) -> User | None:
    """The account named in the session cookie, if that session is still valid.

    The identifier carries the account's session epoch, so deactivation or a password change
    ends every existing session; sessions also end after ``SESSION_ABSOLUTE_LIFETIME``.
    """
    if request.authorization is not None:
        return None  # API clients are identified by their token alone, never by a cookie
    user_id, _, epoch = identifier.partition(":")
    signed_in_at = session.get(SIGNED_IN_AT)
    if not (user_id.isdigit() and epoch.isdigit() and isinstance(signed_in_at, (int, float))):
        return None
    age = datetime.now(UTC).timestamp() - signed_in_at
    if not 0 <= age <= current_app.config["SESSION_ABSOLUTE_LIFETIME"].total_seconds():
        return None
    user = get_session().get(User, int(user_id))
    if user is None or not user.is_active or user.session_epoch != int(epoch):
        return None
    if user.is_demo and not demo_accounts_allowed():
        return None
    return user


def _load_token_user(req: Any) -> User | None:
    auth = req.authorization
    if auth is None or auth.type != "bearer" or not auth.token:
        return None
    token = authenticate_token(get_session(), auth.token, allow_demo=demo_accounts_allowed())
    if token is None:
        return None
    g.token_scope = token.scope
    g.token_id = token.id
    return token.user


def _unauthenticated() -> Any:
    if is_api_request():
        response = jsonify(
            error={"code": "unauthenticated", "message": gettext("Sign in or send a valid API token.")}
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="registry"'
        return response
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _enforce() -> Any:
    """Authenticate, authorise and check CSRF before any view runs."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # no such page: routing answers 404 or 405
    rule: AccessRule | None = (
        AccessRule(public=True)
        if endpoint == "static"
        else getattr(current_app.view_functions[endpoint], ACCESS_ATTR, None)
    )
    if rule is None:  # pragma: no cover - check_every_view_is_ruled refuses to start first
        raise RuntimeError(f"view {endpoint} declares no access rule")
    if rule.max_body is not None:
        request.max_content_length = rule.max_body
    token_request = request.authorization is not None
    if token_request and not current_user.is_authenticated:
        return _unauthenticated()
    if not rule.public:
        if not current_user.is_authenticated:
            return _unauthenticated()
        actor = current_actor()
        if not rule.admits(actor):
            if rule.permission in policy.WRITE_PERMISSIONS and actor.scope == TokenScope.READ:
                raise Forbidden(gettext("This API token is read-only."))
            raise Forbidden(gettext("Your role does not give access to this page."))
        if (
            token_request
            and actor.scope == TokenScope.READ
            and request.method not in SAFE_METHODS
            and not rule.reads_only
        ):
            raise Forbidden(gettext("This API token is read-only."))
    if (
        request.method not in SAFE_METHODS
        and not token_request
        and current_app.config.get("WTF_CSRF_ENABLED", True)
    ):
        csrf.protect()
    return None


def _no_store(response: Any) -> Any:
    if request.endpoint != "static":
        # Pages show data people may only see signed in: no copies in shared or back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def check_every_view_is_ruled(app: Flask) -> None:
    missing = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and getattr(view, ACCESS_ATTR, None) is None
    ]
    if missing:
        raise RuntimeError(f"views without an access rule: {', '.join(sorted(missing))}")


def init_app(app: Flask) -> None:
    # CSRF is checked in _enforce, after authentication, so token clients can be exempted.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.extensions[HASHER_KEY] = PasswordHasher(app.config.get("PASSWORD_HASH_PROFILE", "default"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.user_loader(_load_session_user)
    login_manager.request_loader(_load_token_user)
    app.before_request(_enforce)
    app.after_request(_no_store)
