"""The console's browser security: CSRF double-submit, Origin check, CSP and
other headers, and signing in by pasting a bearer token into a cookie.

Who may see what stays the auth policy's business (``api/middleware.py``);
this module only makes a cookie-carrying browser safe to serve.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from typing import Any

import falcon

from api.console.render import render
from api.links import base_url
from api.middleware import SIGN_IN_PATH
from flyte.auth import CONSOLE_PATH
from flyte.auth import TOKEN_COOKIE
from flyte.auth import Auth
from flyte.auth import is_console_path
from flyte.errors import AuthError
from flyte.errors import ClaimsNotMet
from flyte.errors import InvalidToken
from flyte.errors import MissingToken
from flyte.errors import NoPolicy

#: The double-submit cookie; every console form echoes it as ``csrf_token``.
CSRF_COOKIE = "flyte_csrf"
CSRF_FIELD = "csrf_token"
#: For scripts posting JSON instead of a form.
CSRF_HEADER = "X-CSRF-Token"
SIGN_OUT_PATH = CONSOLE_PATH + "/sign-out"
#: No console form is larger; a bigger body is refused before it is read.
MAX_FORM_BYTES = 64 * 1024
#: Browsers drop cookies over 4096 bytes (name and attributes included).
MAX_TOKEN_CHARS = 3800
#: Methods that change state: they need the CSRF token and a same-origin Origin.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: No inline script or style anywhere: everything hostile is escaped, and even
#: a missed escape cannot run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Not "no-referrer": under it Chromium sends "Origin: null" on the console's
    # own form posts, and the Origin check would refuse every one of them.
    # "same-origin" still sends nothing to other sites.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: Pages show live data, and some of it only to those the policy allows.
PAGE_CACHE_CONTROL = "no-store"
STATIC_PREFIX = CONSOLE_PATH + "/static/"
#: What the sign-in form says when the console sent a browser to it.
REASONS: Mapping[str, str] = {
    "missing": "Sign in to open the console.",
    "invalid": "Your token is no longer valid (expired?). Paste a new one.",
    "denied": "Your token does not allow that page. Sign in with another token.",
}


class ConsoleSecurityMiddleware:
    """On every ``/console`` request: a CSRF token, and for state-changing
    requests its double-submit check and an Origin check; on every response,
    the Content-Security-Policy and friends."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Issue or read the CSRF token; refuse a forged state-changing request."""
        if not is_console_path(req.path):
            return
        sent = _cookie(req, CSRF_COOKIE) or None  # an emptied cookie is none
        req.context.csrf_token = sent or secrets.token_urlsafe(32)
        req.context.csrf_is_new = sent is None
        if req.method in UNSAFE_METHODS:
            _check_origin(req)
            _check_csrf_token(req, sent)

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        """Add the security headers, and the CSRF cookie when it was just made."""
        if not is_console_path(req.path):
            return
        for name, value in SECURITY_HEADERS.items():
            resp.set_header(name, value)
        if not req.path.startswith(STATIC_PREFIX):
            resp.set_header("Cache-Control", PAGE_CACHE_CONTROL)
        if req.context.get("csrf_is_new"):
            resp.set_cookie(
                CSRF_COOKIE,
                req.context.csrf_token,
                path=CONSOLE_PATH,
                secure=is_tls(req),
                http_only=True,
                same_site="Strict",
            )


class SignInResource:
    """``/console/sign-in``: the form to paste a bearer token, and its check."""

    def __init__(self, auth: Auth | None) -> None:
        self._auth = auth

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Show the form, saying why the browser was sent here."""
        reason = REASONS.get(req.get_param("reason") or "", "")
        self._show(req, resp, notice=reason)

    on_head = on_get

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Check the pasted token as the API would; keep it in a cookie if good."""
        form = form_fields(req)
        target = safe_next(form.get("next", ""))
        if self._auth is None:
            raise falcon.HTTPSeeOther(target)  # auth is off: nothing to sign in to
        token = form.get("token", "").strip()
        problem = self._problem(token)
        if problem:
            self._show(
                req, resp, error=problem, next_path=target, status=falcon.HTTP_401
            )
            return
        resp.set_cookie(
            TOKEN_COOKIE,
            token,
            path=CONSOLE_PATH,
            secure=is_tls(req),
            http_only=True,
            same_site="Strict",
        )
        raise falcon.HTTPSeeOther(target)

    def _problem(self, token: str) -> str:
        """Why ``token`` cannot sign in, or "" when it can."""
        if len(token) > MAX_TOKEN_CHARS:
            return (
                f"This token is longer than {MAX_TOKEN_CHARS} characters; "
                "a browser cannot keep it in a cookie."
            )
        assert self._auth is not None
        try:
            self._auth.verify(token)
            self._auth.authorize("GET", CONSOLE_PATH, token)
        except AuthError as ex:
            return sign_in_error(ex)
        return ""

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        *,
        notice: str = "",
        error: str = "",
        next_path: str | None = None,
        status: str = falcon.HTTP_200,
    ) -> None:
        # Open without a token, so the auth middleware did not look at the cookie.
        req.context.signed_in = _cookie(req, TOKEN_COOKIE) is not None
        render(
            req,
            resp,
            "sign_in.html",
            status=status,
            auth_enabled=self._auth is not None,
            notice=notice,
            error=error,
            next_path=next_path or safe_next(req.get_param("next") or ""),
        )


class SignOutResource:
    """``POST /console/sign-out``: forget the token this browser signed in with."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Clear the token cookie and go back to the sign-in form."""
        resp.unset_cookie(TOKEN_COOKIE, path=CONSOLE_PATH, same_site="Strict")
        raise falcon.HTTPSeeOther(SIGN_IN_PATH)


def add_sign_in_routes(
    app: falcon.App[falcon.Request, falcon.Response], auth: Auth | None
) -> None:
    """Attach ``/console/sign-in`` and ``/console/sign-out``."""
    app.add_route(SIGN_IN_PATH, SignInResource(auth))
    app.add_route(SIGN_OUT_PATH, SignOutResource())


def sign_in_error(ex: AuthError) -> str:
    """What the sign-in form says about a refused token."""
    if isinstance(ex, MissingToken):
        return "Paste a token first."
    if isinstance(ex, InvalidToken):
        return f"This token is not valid: {ex}."
    if isinstance(ex, ClaimsNotMet):
        return (
            "This token is valid, but the auth policy does not let it open the console."
        )
    if isinstance(ex, NoPolicy):
        return (
            "The auth policy has no entry for GET /console: "
            "no token may open the console."
        )
    return "This token cannot sign in."


def safe_next(path: str) -> str:
    """A console path to return to after signing in; anything else is /console.

    Only paths of this console: never another site (``//evil``) nor the API.
    """
    if is_console_path(path) and not path.startswith("//") and "\\" not in path:
        return path
    return CONSOLE_PATH


def is_tls(req: falcon.Request) -> bool:
    """Whether the browser talks HTTPS to us (directly or through a trusted proxy)."""
    return base_url(req).startswith("https://")


def form_fields(req: falcon.Request) -> dict[str, str]:
    """The fields of a posted form (the first value of each); {} for other bodies."""
    if req.content_type is None or not req.content_type.startswith(
        falcon.MEDIA_URLENCODED
    ):
        return {}
    if req.content_length is not None and req.content_length > MAX_FORM_BYTES:
        raise falcon.HTTPContentTooLarge(
            description=f"a console form is at most {MAX_FORM_BYTES} bytes"
        )
    cached = req.context.get("console_form")
    if cached is None:
        media: Any = req.get_media(default_when_empty={})
        cached = {str(name): _first(value) for name, value in dict(media or {}).items()}
        req.context.console_form = cached
    fields: dict[str, str] = cached
    return fields


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value)


def _cookie(req: falcon.Request, name: str) -> str | None:
    values = req.get_cookie_values(name)
    return values[0] if values else None


def _same(a: str, b: str) -> bool:
    # Constant time, so the cookie cannot be guessed one character at a time.
    return hmac.compare_digest(a.encode(), b.encode())


def _check_origin(req: falcon.Request) -> None:
    """A browser names the page's origin on a POST; it must be ours."""
    origin = req.get_header("Origin")
    if origin is not None and origin != base_url(req):
        raise falcon.HTTPForbidden(
            title="Cross-origin request refused",
            description=f"Origin {origin!r} is not this console's origin",
        )


def _check_csrf_token(req: falcon.Request, cookie: str | None) -> None:
    """The form field (or header) must repeat the CSRF cookie (double submit)."""
    sent = req.get_header(CSRF_HEADER) or form_fields(req).get(CSRF_FIELD, "")
    if cookie is None or not sent or not _same(sent, cookie):
        raise falcon.HTTPForbidden(
            title="CSRF check failed",
            description="the form's CSRF token is missing or does not match; "
            "reload the page and try again",
        )
