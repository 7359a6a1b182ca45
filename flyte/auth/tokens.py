"""OIDC ID-token verification: discovery, JWKS keys and PyJWT checks.

Algorithms come from configuration or discovery and never from the token header;
only asymmetric algorithms are accepted, so ``alg: none`` and HS/RS confusion fail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from tenacity import RetryCallState
from tenacity import Retrying
from tenacity import retry_if_exception_type
from tenacity import wait_exponential

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
#: Start-up retries wait 0.5 s, then twice as long each time, up to this.
MAX_RETRY_DELAY_SECONDS = 10.0
#: What an issuer that is not (yet) reachable, or not yet serving, raises.
UNREACHABLE = (OSError, ValueError, KeyError, httpx.HTTPError, jwt.PyJWTError)
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
    response = httpx.get(discovery_url(url), timeout=timeout, follow_redirects=True)
    response.raise_for_status()
    document = response.json()
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


def discovery_url(issuer: str) -> httpx.URL:
    """Where the issuer serves its discovery document."""
    # The document sits below the issuer's own path (``/dex/.well-known/...``):
    # joined to the issuer as a directory, not to its last segment.
    return httpx.URL(issuer.rstrip("/") + "/").join(".well-known/openid-configuration")


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
    retrying = Retrying(
        retry=retry_if_exception_type(UNREACHABLE),
        wait=wait_exponential(multiplier=0.5, max=MAX_RETRY_DELAY_SECONDS),
        stop=_sleeping_past(monotonic() + wait, monotonic),
        sleep=sleep,
        before_sleep=_log_retry,
        reraise=True,
    )
    try:
        return retrying(_connect, url, client_id, monotonic, options)
    except UNREACHABLE as ex:
        raise ConfigError(
            "FLYTE_OIDC_ISSUER_URL",
            f"issuer {url!r} unreachable for {wait:.0f} s: {ex}",
        ) from ex


def _connect(
    url: str, client_id: str, monotonic: Callable[[], float], options: dict[str, Any]
) -> TokenVerifier:
    issuer = discover(url, timeout=options.get("timeout", DEFAULT_HTTP_TIMEOUT_SECONDS))
    return TokenVerifier(issuer, client_id, monotonic=monotonic, **options)


def _sleeping_past(
    deadline: float, monotonic: Callable[[], float]
) -> Callable[[RetryCallState], bool]:
    """Stop before a sleep would end after ``deadline``, on the injected clock.

    Not tenacity's ``stop_before_delay``: it reads the system clock, so a test
    with a fake ``sleep`` and clock could not run the whole wait at once.
    """

    def stop(state: RetryCallState) -> bool:
        # tenacity (8.3 and later) decides the next sleep before asking to stop.
        return monotonic() + state.upcoming_sleep > deadline

    return stop


def _log_retry(state: RetryCallState) -> None:
    url = state.args[0]
    error = state.outcome.exception() if state.outcome else None
    logger.warning(
        "OIDC issuer %s not ready (%s); retrying in %.1f s.",
        url,
        error,
        state.upcoming_sleep,
    )
