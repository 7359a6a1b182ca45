"""Cross-cutting request middleware: ``AuthMiddleware`` guards the whole app."""

from __future__ import annotations

from urllib.parse import quote

import falcon

from api.escaped_slashes import has_escaped_slashes
from flyte.auth import CONSOLE_PATH
from flyte.auth import TOKEN_COOKIE
from flyte.auth import Auth
from flyte.auth import credential
from flyte.auth import is_console_path
from flyte.errors import AuthError
from flyte.errors import InvalidToken
from flyte.errors import MissingToken

#: Where a browser without valid credentials is sent to paste a token.
SIGN_IN_PATH = CONSOLE_PATH + "/sign-in"
#: Console paths any visitor reaches: the sign-in form, signing out (it only
#: drops the visitor's own cookie) and the stylesheets and scripts they load.
OPEN_CONSOLE_PATHS = frozenset({SIGN_IN_PATH, CONSOLE_PATH + "/sign-out"})
OPEN_CONSOLE_PREFIX = CONSOLE_PATH + "/static/"


class AuthMiddleware:
    """Apply the auth policy to every request, before routing (as upstream).

    The token is the Authorization header, or on the console's paths the
    ``flyte_token`` cookie set by signing in: checked the same way, by the same
    policy for the request's method and path. A browser asking for a console
    page without valid credentials is redirected to the sign-in form.
    """

    def __init__(self, auth: Auth) -> None:
        self._auth = auth

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Raise an AuthError (401, see api/errors.py) unless the request may pass."""
        if is_open_console_path(req.path):
            return
        header = req.get_header("Authorization")
        cookie = first_cookie(req, TOKEN_COOKIE)
        try:
            self._auth.authorize(
                req.method,
                req.path,
                credential(req.path, header, cookie),
                escaped=has_escaped_slashes(req),
            )
        except AuthError as ex:
            if is_console_path(req.path) and is_browser_page_request(req):
                raise falcon.HTTPSeeOther(sign_in_location(req, ex)) from ex
            raise
        req.context.signed_in = (
            not header and cookie is not None and is_console_path(req.path)
        )


def is_open_console_path(path: str) -> bool:
    """Whether ``path`` is reachable without a token even when auth is on."""
    return path in OPEN_CONSOLE_PATHS or path.startswith(OPEN_CONSOLE_PREFIX)


def is_browser_page_request(req: falcon.Request) -> bool:
    """A browser loading a page (GET or HEAD asking for HTML), not a script's call."""
    accept = req.get_header("Accept") or ""
    return req.method in ("GET", "HEAD") and "text/html" in accept


def first_cookie(req: falcon.Request, name: str) -> str | None:
    """The value of cookie ``name``, the first one if the browser sent several."""
    values = req.get_cookie_values(name)
    return values[0] if values else None


def sign_in_location(req: falcon.Request, ex: AuthError) -> str:
    """The sign-in form, told why and which page to return to afterwards."""
    target = req.path + (f"?{req.query_string}" if req.query_string else "")
    return f"{SIGN_IN_PATH}?reason={_reason(ex)}&next={quote(target, safe='/')}"


def _reason(ex: AuthError) -> str:
    # Named by kind, never with the error's text: the sign-in page words it.
    if isinstance(ex, MissingToken):
        return "missing"
    if isinstance(ex, InvalidToken):
        return "invalid"
    return "denied"
