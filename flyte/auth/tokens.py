"""OIDC ID-token verification: discovery, JWKS keys and PyJWT checks.

Algorithms come from configuration or discovery and never from the token header;
only asymmetric algorithms are accepted, so ``alg: none`` and HS/RS confusion fail.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import jwt

from flyte.errors import ConfigError
from flyte.errors import InvalidToken

logger = logging.getLogger(__name__)

#: Upstream's HTTP timeout for discovery and key fetches.
DEFAULT_HTTP_TIMEOUT_SECONDS = 10.0
#: Clock skew allowed on ``exp`` and ``nbf``.
DEFAULT_LEEWAY_SECONDS = 30
#: An unknown ``kid`` re-fetches the JWKS at most this often.
DEFAULT_JWKS_REFRESH_SECONDS = 30.0
#: An unreachable issuer is retried at start-up for this long before giving up.
DEFAULT_STARTUP_WAIT_SECONDS = 60.0
#: Used when discovery lists no ``id_token_signing_alg_values_supported``.
DEFAULT_ALGORITHMS = ("RS256",)
#: What we accept at all; symmetric (HS*) and ``none`` are never allowed.
ASYMMETRIC_ALGORITHMS = frozenset(
    "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA".split()
)


@dataclass(frozen=True)
class Issuer:
    """What discovery tells us about the OIDC issuer."""

    url: str
    jwks_uri: str
    algorithms: tuple[str, ...]


class TokenVerifier:
    """Verify ID tokens of one issuer for one client id; returns their claims."""

    def __init__(
        self,
        issuer: Issuer,
        client_id: str,
        *,
        leeway: float = DEFAULT_LEEWAY_SECONDS,
        refresh_interval: float = DEFAULT_JWKS_REFRESH_SECONDS,
        timeout: float = DEFAULT_HTTP_TIMEOUT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._leeway = leeway
        self._refresh_interval = refresh_interval
        self._monotonic = monotonic
        # NOTE: PyJWKClient re-fetches on any unknown kid; we only use its cached
        # set and decide ourselves when to refresh (see _keys).
        self._jwks = jwt.PyJWKClient(
            issuer.jwks_uri, cache_keys=False, lifespan=3600, timeout=int(timeout)
        )
        self._jwk_set = self._jwks.get_jwk_set(refresh=True)
        self._fetched_at = monotonic()

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; raises InvalidToken for any problem with it."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as ex:
            raise InvalidToken(f"malformed token: {ex}") from ex
        for key in self._keys(kid):
            try:
                return self._decode(token, key)
            except jwt.InvalidSignatureError:
                continue  # without a kid, try the next key
            except jwt.PyJWTError as ex:
                raise InvalidToken(str(ex)) from ex
        raise InvalidToken("signature does not verify with any issuer key")

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=list(self._issuer.algorithms),
            audience=self._client_id,
            issuer=self._issuer.url,
            leeway=self._leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
        return claims

    def _keys(self, kid: str | None) -> list[jwt.PyJWK]:
        """The keys to try: the one named by ``kid`` (re-fetching the set when it
        is unknown, at most every ``refresh_interval``), or all without a kid."""
        keys = self._find(kid)
        if not keys and self._monotonic() - self._fetched_at >= self._refresh_interval:
            logger.info("Unknown key id %r: re-fetching the issuer's keys.", kid)
            self._fetched_at = self._monotonic()
            try:
                self._jwk_set = self._jwks.get_jwk_set(refresh=True)
            except jwt.PyJWTError as ex:
                raise InvalidToken(f"cannot fetch the issuer's keys: {ex}") from ex
            keys = self._find(kid)
        if not keys:
            raise InvalidToken(f"unknown key id {kid!r}")
        return keys

    def _find(self, kid: str | None) -> list[jwt.PyJWK]:
        keys = [
            key for key in self._jwk_set.keys if key.public_key_use in ("sig", None)
        ]
        return keys if kid is None else [key for key in keys if key.key_id == kid]


def discover(
    url: str,
    *,
    algorithms: Sequence[str] | None = None,
    timeout: float = DEFAULT_HTTP_TIMEOUT_SECONDS,
) -> Issuer:
    """Read ``{url}/.well-known/openid-configuration``; its issuer must be ``url``."""
    address = url.rstrip("/") + "/.well-known/openid-configuration"
    with urllib.request.urlopen(address, timeout=timeout) as response:  # noqa: S310
        document = json.load(response)
    if document.get("issuer") != url:
        raise ConfigError(
            "FLYTE_OIDC_ISSUER_URL",
            f"discovery says issuer {document.get('issuer')!r}, expected {url!r}",
        )
    offered = algorithms or document.get("id_token_signing_alg_values_supported")
    chosen = tuple(
        alg for alg in offered or DEFAULT_ALGORITHMS if alg in ASYMMETRIC_ALGORITHMS
    )
    if not chosen:
        raise ConfigError(
            "FLYTE_OIDC_ISSUER_URL", f"no supported signing algorithm in {offered}"
        )
    return Issuer(url=url, jwks_uri=document["jwks_uri"], algorithms=chosen)


def connect_verifier(
    url: str,
    client_id: str,
    *,
    wait: float = DEFAULT_STARTUP_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
    **options: Any,
) -> TokenVerifier:
    """Discover the issuer and fetch its keys, retrying with backoff for ``wait``
    seconds while it cannot be reached; then start-up fails with a ConfigError."""
    deadline = monotonic() + wait
    delay = 0.5
    while True:
        try:
            issuer = discover(url, timeout=options.get("timeout", 10.0))
            return TokenVerifier(issuer, client_id, monotonic=monotonic, **options)
        except (OSError, ValueError, KeyError, jwt.PyJWTError) as ex:
            if monotonic() + delay > deadline:
                raise ConfigError(
                    "FLYTE_OIDC_ISSUER_URL",
                    f"issuer {url!r} unreachable for {wait:.0f} s: {ex}",
                ) from ex
            logger.warning(
                "OIDC issuer %s not ready (%s); retrying in %.1f s.", url, ex, delay
            )
            sleep(delay)
            delay = min(delay * 2, 10.0)
