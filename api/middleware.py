"""Cross-cutting request middleware: ``AuthMiddleware`` guards the whole app."""

from __future__ import annotations

import falcon

from flyte.auth import Auth


class AuthMiddleware:
    """Apply the auth policy to every request, before routing (as upstream)."""

    def __init__(self, auth: Auth) -> None:
        self._auth = auth

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Raise an AuthError (401, see api/errors.py) unless the request may pass."""
        self._auth.authorize(req.method, req.path, req.get_header("Authorization"))
