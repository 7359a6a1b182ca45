"""Authentication and authorization as upstream Flyte does it: a policy of paths
and claims, checked against OIDC ID tokens. Pure Python; ``api/middleware.py``
is the Falcon glue."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from flyte.auth.policy import Policy
from flyte.auth.policy import is_fulfilled
from flyte.auth.policy import load_policy
from flyte.auth.tokens import connect_verifier
from flyte.config import Settings
from flyte.errors import ClaimsNotMet
from flyte.errors import ConfigError
from flyte.errors import MissingToken
from flyte.errors import NoPolicy

__all__ = [
    "CONSOLE_PATH",
    "TOKEN_COOKIE",
    "Auth",
    "Policy",
    "credential",
    "is_console_path",
    "load_auth",
]

#: Checks a raw token and returns its claims, or raises InvalidToken.
Verify = Callable[[str], Mapping[str, Any]]
#: The web console's paths; only below it does a signed-in cookie count as a token.
CONSOLE_PATH = "/console"
#: The cookie in which a browser keeps the token it signed in with.
TOKEN_COOKIE = "flyte_token"


class Auth:
    """Decide whether one request may pass; raises an AuthError when it may not."""

    def __init__(self, policy: Policy, verify: Verify) -> None:
        self._policy = policy
        self._verify = verify

    def authorize(
        self,
        method: str,
        path: str,
        authorization: str | None,
        *,
        escaped: bool = False,
    ) -> None:
        """Check ``method path`` against the policy and the Authorization header.

        ``escaped``: the path keeps a ``/`` inside a segment as ``%2F``.
        """
        match = self._policy.find(method, path, escaped=escaped)
        if match is None:
            raise NoPolicy(f"no policy covers {method} {path}")
        if not match.rule.claims:
            return
        if not authorization:
            raise MissingToken("this path needs a bearer token")
        claims = self._verify(_strip_bearer(authorization))
        if not is_fulfilled(match.rule.claims, claims, match.params):
            raise ClaimsNotMet(f"the token lacks the claims {method} {path} needs")

    def verify(self, token: str) -> Mapping[str, Any]:
        """The claims of a bearer token (``Bearer `` optional), or InvalidToken.

        ``authorize`` verifies only where the policy asks for claims; signing in
        verifies always, so a browser never keeps a token that is not valid.
        """
        if not token.strip():
            raise MissingToken("no token given")
        return self._verify(_strip_bearer(token))


def is_console_path(path: str) -> bool:
    """Whether ``path`` is the web console's (``/console`` or below it)."""
    return path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")


def credential(
    path: str, authorization: str | None, cookie_token: str | None
) -> str | None:
    """The token a request presents: its Authorization header, or on the
    console's paths only, the token a browser signed in with (its cookie)."""
    if authorization:
        return authorization
    return cookie_token if is_console_path(path) and cookie_token else None


def load_auth(settings: Settings, **options: Any) -> Auth:
    """Load the policy file and connect to the issuer (start-up; may wait)."""
    path, url = settings.auth_policy_path, settings.oidc_issuer_url
    client_id = settings.oidc_client_id
    if not (path and url and client_id):
        raise ConfigError(
            "FLYTE_AUTH_POLICY_PATH",
            "auth needs FLYTE_OIDC_ISSUER_URL and FLYTE_OIDC_ISSUER_CLIENT_ID too",
        )
    policy = load_policy(path)
    verifier = connect_verifier(url, client_id, **options)
    return Auth(policy, verifier.verify)


def _strip_bearer(header: str) -> str:
    """Upstream strips ``Bearer `` case-insensitively, and accepts a bare token."""
    header = header.strip()
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return header
