"""Adversarial tests of ID-token verification against a local OIDC issuer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from flyte.auth.tokens import TokenVerifier
from flyte.auth.tokens import connect_verifier
from flyte.auth.tokens import discover
from flyte.auth.tokens import discovery_url
from flyte.errors import ConfigError
from flyte.errors import InvalidToken
from tests.oidc import CLIENT_ID
from tests.oidc import Issuer
from tests.oidc import new_rsa_key
from tests.oidc import public_pem


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def verifier(oidc_issuer: Issuer, ticker: Ticker) -> TokenVerifier:
    return connect_verifier(oidc_issuer.url, CLIENT_ID, monotonic=ticker)


def test_a_valid_token_gives_its_claims(
    oidc_issuer: Issuer, verifier: TokenVerifier
) -> None:
    claims = verifier.verify(oidc_issuer.token({"groups": ["dev"]}))
    assert claims["groups"] == ["dev"]
    assert claims["aud"] == CLIENT_ID


def test_an_audience_list_containing_the_client_id_is_accepted(
    oidc_issuer: Issuer, verifier: TokenVerifier
) -> None:
    token = oidc_issuer.token(aud=["other-app", CLIENT_ID])
    assert verifier.verify(token)["sub"] == "someone"


def test_a_token_within_the_leeway_is_accepted(
    oidc_issuer: Issuer, verifier: TokenVerifier
) -> None:
    now = int(time.time())
    assert verifier.verify(oidc_issuer.token(exp=now - 10, nbf=now + 10))


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": -120}, "expired"),
        ({"nbf": +120}, "not yet valid"),
        ({"aud": "another-app"}, "(?i)audience"),
        ({"iss": "https://evil.example.com/dex"}, "issuer"),
        ({"exp": None}, '"exp"'),
        ({"aud": None}, '"aud"'),
    ],
)
def test_bad_claims_are_invalid(
    oidc_issuer: Issuer, verifier: TokenVerifier, overrides: dict, reason: str
) -> None:
    # Times are offsets from now, taken when the test runs, not when collected.
    now = int(time.time())
    claims = {
        key: now + value if key in ("exp", "nbf") and value is not None else value
        for key, value in overrides.items()
    }
    with pytest.raises(InvalidToken, match=reason):
        verifier.verify(oidc_issuer.token(**claims))


def test_alg_none_is_refused(oidc_issuer: Issuer, verifier: TokenVerifier) -> None:
    payload = jwt.decode(oidc_issuer.token(), options={"verify_signature": False})
    token = jwt.encode(payload, None, "none", headers={"kid": "key-1"})
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_hs256_signed_with_the_public_key_is_refused(
    oidc_issuer: Issuer, verifier: TokenVerifier
) -> None:
    # Given a token HMAC-signed with the issuer's public key as the secret
    pem = public_pem(oidc_issuer.keys["key-1"])
    payload = jwt.decode(oidc_issuer.token(), options={"verify_signature": False})
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "typ": "JWT", "kid": "key-1"}).encode()
    )
    body = base64.urlsafe_b64encode(json.dumps(payload).encode())
    signing_input = header.rstrip(b"=") + b"." + body.rstrip(b"=")
    mac = hmac.new(pem, signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()
    # Then the algorithm is not one we accept
    with pytest.raises(InvalidToken, match="alg value is not allowed"):
        verifier.verify(token)


def test_a_tampered_payload_is_refused(
    oidc_issuer: Issuer, verifier: TokenVerifier
) -> None:
    header, _, signature = oidc_issuer.token({"groups": ["dev"]}).split(".")
    payload = jwt.decode(oidc_issuer.token(), options={"verify_signature": False})
    forged = base64.urlsafe_b64encode(
        json.dumps({**payload, "groups": ["admin"]}).encode()
    )
    with pytest.raises(InvalidToken, match="signature"):
        verifier.verify(f"{header}.{forged.rstrip(b'=').decode()}.{signature}")


@pytest.mark.parametrize("token", ["this-is-not-a-valid-token", "", "a.b.c"])
def test_malformed_tokens_are_invalid(verifier: TokenVerifier, token: str) -> None:
    with pytest.raises(InvalidToken):
        verifier.verify(token)


def test_a_token_signed_by_a_foreign_key_is_refused(
    oidc_issuer: Issuer, verifier: TokenVerifier
) -> None:
    token = jwt.encode(
        {"iss": oidc_issuer.url, "aud": CLIENT_ID, "exp": int(time.time()) + 60},
        new_rsa_key(),
        "RS256",
        headers={"kid": "key-1"},
    )
    with pytest.raises(InvalidToken, match="signature"):
        verifier.verify(token)


def test_unknown_kids_refetch_the_keys_at_most_once_per_interval(
    oidc_issuer: Issuer, verifier: TokenVerifier, ticker: Ticker
) -> None:
    # Given the issuer rotates to a new key right after start-up
    oidc_issuer.keys["key-2"] = new_rsa_key()
    fetched = oidc_issuer.jwks_requests
    token = oidc_issuer.token(kid="key-2")
    # When tokens with the new kid arrive within the refresh interval
    for _ in range(5):
        with pytest.raises(InvalidToken, match="unknown key id"):
            verifier.verify(token)
    # Then the issuer was not asked again
    assert oidc_issuer.jwks_requests == fetched
    # When the interval has passed, the new key is fetched and accepted
    ticker.now += 30
    assert verifier.verify(token)["sub"] == "someone"
    assert oidc_issuer.jwks_requests == fetched + 1


def test_a_flood_of_bad_kids_fetches_once_per_interval(
    oidc_issuer: Issuer, verifier: TokenVerifier, ticker: Ticker
) -> None:
    fetched = oidc_issuer.jwks_requests
    ticker.now += 60
    for n in range(20):
        with pytest.raises(InvalidToken):
            verifier.verify(_with_kid(oidc_issuer.token(), f"bogus-{n}"))
    assert oidc_issuer.jwks_requests == fetched + 1


def _with_kid(token: str, kid: str) -> str:
    _, payload, signature = token.split(".")
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid}).encode()
    )
    return f"{header.rstrip(b'=').decode()}.{payload}.{signature}"


def test_discovery_reads_the_issuer(oidc_issuer: Issuer) -> None:
    issuer = discover(oidc_issuer.url)
    assert issuer.jwks_uri == f"{oidc_issuer.url}/keys"
    assert issuer.algorithms == ("RS256",)


def test_discovery_never_allows_symmetric_or_none_algorithms(
    oidc_issuer: Issuer,
) -> None:
    issuer = discover(oidc_issuer.url, algorithms=["none", "HS256", "RS256"])
    assert issuer.algorithms == ("RS256",)


def test_a_different_issuer_in_discovery_stops_start_up(oidc_issuer: Issuer) -> None:
    oidc_issuer.discovery_issuer = "https://elsewhere.example.com"
    with pytest.raises(ConfigError, match="FLYTE_OIDC_ISSUER_URL"):
        connect_verifier(oidc_issuer.url, CLIENT_ID, wait=0)


def test_an_unreachable_issuer_is_retried_then_stops_start_up() -> None:
    # Given an issuer address nobody listens on and a fake clock
    ticker = Ticker()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        ticker.now += seconds

    # Then start-up gives up after the configured wait, having backed off
    with pytest.raises(ConfigError, match="unreachable for 60 s"):
        connect_verifier(
            "http://127.0.0.1:9/dex", CLIENT_ID, sleep=sleep, monotonic=ticker
        )
    assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
    assert sum(waits) <= 60


def test_an_issuer_not_serving_discovery_yet_is_retried_then_stops_start_up(
    oidc_issuer: Issuer,
) -> None:
    # Given an issuer that answers 404 for its discovery document
    ticker = Ticker()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        ticker.now += seconds

    # Then start-up retries, as for an unreachable one, and names the answer
    with pytest.raises(ConfigError, match="unreachable for 5 s: .*404 Not Found"):
        connect_verifier(
            f"{oidc_issuer.url}/elsewhere",
            CLIENT_ID,
            wait=5,
            sleep=sleep,
            monotonic=ticker,
        )
    assert waits == [0.5, 1.0, 2.0]


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        ("https://id.example.com/dex", "https://id.example.com/dex/"),
        ("https://id.example.com/dex/", "https://id.example.com/dex/"),
        ("https://id.example.com", "https://id.example.com/"),
    ],
)
def test_discovery_is_read_below_the_issuer_path(issuer: str, expected: str) -> None:
    url = str(discovery_url(issuer))
    assert url == expected + ".well-known/openid-configuration"
