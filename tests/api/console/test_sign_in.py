"""Signing in to the console with a pasted token, with auth on: the cookie is
checked exactly like the Authorization header, and only on console paths."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import redis
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from api.console.security import CSRF_COOKIE
from flyte.auth import TOKEN_COOKIE
from flyte.auth import load_auth
from flyte.config import Settings
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.store import Stores
from tests.conftest import FakeClock
from tests.oidc import Issuer
from tests.oidc import secured_settings
from workers.queue import DramatiqQueue

#: docs/security.md's example: observers read the console, operators act on it.
CONSOLE_POLICY = """
- path: /console
  methods: [GET]
  claims: {groups: [flyte-observers, flyte-operators]}
- path: /console/*
  methods: [GET]
  claims: {groups: [flyte-observers, flyte-operators]}
- path: /console/*
  methods: [POST]
  claims: {groups: [flyte-operators]}
- path: /metrics
  methods: [GET]
  claims: {groups: [flyte-monitoring]}
# Not in the example: an API path, to show the cookie does not count there.
- path: /v1/packs/:pack
  methods: [DELETE]
  claims: {groups: [flyte-operators]}
"""
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
CSRF = "a-csrf-token-for-these-tests"


@pytest.fixture
def console(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    redis_client: redis.Redis,
    clock: FakeClock,
    oidc_issuer: Issuer,
    tmp_path: Path,
) -> testing.TestClient:
    """A client of an app with auth on and the console policy."""
    auth_settings = secured_settings(settings, oidc_issuer, tmp_path, CONSOLE_POLICY)
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    deps = Dependencies(
        stores=stores,
        queue=queue,
        health_checks=checks,
        clock=clock,
        auth=load_auth(auth_settings),
    )
    return testing.TestClient(
        create_app(auth_settings, deps), headers={"Host": "example.com"}
    )


def sign_in(
    console: testing.TestClient,
    token: str,
    *,
    next_path: str = "",
    headers: dict[str, str] | None = None,
) -> testing.Result:
    return console.simulate_post(
        "/console/sign-in",
        body=f"csrf_token={CSRF}&token={token}&next={next_path}",
        headers={**FORM, **(headers or {})},
        cookies={CSRF_COOKIE: CSRF},
    )


def test_the_sign_in_form_is_open_without_a_token(
    console: testing.TestClient,
) -> None:
    result = console.simulate_get("/console/sign-in", headers=BROWSER)
    assert result.status_code == 200
    assert '<textarea id="token" name="token"' in result.text
    csrf = result.cookies[CSRF_COOKIE].value
    assert f'name="csrf_token" value="{csrf}"' in result.text


def test_static_files_are_open_without_a_token(console: testing.TestClient) -> None:
    assert console.simulate_get("/console/static/console.css").status_code == 200


def test_a_browser_without_a_token_is_sent_to_sign_in(
    console: testing.TestClient,
) -> None:
    result = console.simulate_get("/console/packs", headers=BROWSER)
    assert result.status_code == 303
    location = urlsplit(result.headers["Location"])
    assert location.path == "/console/sign-in"
    assert parse_qs(location.query) == {
        "reason": ["missing"],
        "next": ["/console/packs"],
    }
    page = console.simulate_get(result.headers["Location"], headers=BROWSER)
    assert "Sign in to open the console." in page.text
    assert 'name="next" value="/console/packs"' in page.text


def test_a_script_without_a_token_gets_401_json(console: testing.TestClient) -> None:
    result = console.simulate_get(
        "/console/overview.json", headers={"Accept": "application/json"}
    )
    assert result.status_code == 401
    assert result.json["status"] == 401


def test_a_good_token_sets_an_httponly_strict_console_cookie(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-observers"]})
    result = sign_in(console, token, next_path="/console/events")
    assert result.status_code == 303
    assert result.headers["Location"].endswith("/console/events")
    cookie = result.cookies[TOKEN_COOKIE]
    assert cookie.value == token
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    assert cookie.path == "/console"
    assert not cookie.secure


def test_the_token_cookie_is_secure_under_tls(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-observers"]})
    https = {"X-Forwarded-Proto": "https", "Origin": "https://example.com"}
    result = sign_in(console, token, headers=https)
    assert result.status_code == 303
    assert result.cookies[TOKEN_COOKIE].secure


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("not-a-token", "This token is not valid"),
        ("", "Paste a token first."),
    ],
    ids=["garbage", "empty"],
)
def test_a_bad_token_is_refused_with_the_form_again(
    console: testing.TestClient, token: str, message: str
) -> None:
    result = sign_in(console, token)
    assert result.status_code == 401
    assert TOKEN_COOKIE not in result.cookies
    assert message in result.text
    assert '<textarea id="token"' in result.text


def test_an_expired_token_is_refused(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-operators"]}, exp=1)
    result = sign_in(console, token)
    assert result.status_code == 401
    assert "This token is not valid" in result.text


def test_a_valid_token_the_policy_does_not_let_in_is_refused(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["somebody-else"]})
    result = sign_in(console, token)
    assert result.status_code == 401
    assert "does not let it open the console" in result.text


def test_sign_in_never_redirects_off_the_console(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-observers"]})
    for target in ("//evil.example/x", "https://evil.example", "/v1/packs"):
        result = sign_in(console, token, next_path=target)
        assert urlsplit(result.headers["Location"]).path == "/console"


def test_the_cookie_opens_console_pages(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-observers"]})
    result = console.simulate_get(
        "/console", headers=BROWSER, cookies={TOKEN_COOKIE: token}
    )
    assert result.status_code == 200


def test_the_cookie_is_checked_by_the_policy_for_the_method(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    # Given an observer and an operator, each signed in
    observer = oidc_issuer.token({"groups": ["flyte-observers"]})
    operator = oidc_issuer.token({"groups": ["flyte-operators"]})

    def post(token: str) -> testing.Result:
        return console.simulate_post(
            "/console/queues/q/dead/requeue-all",
            body=f"csrf_token={CSRF}",
            headers=FORM,
            cookies={TOKEN_COOKIE: token, CSRF_COOKIE: CSRF},
        )

    # When each posts an operator's action: the observer is refused
    assert post(observer).status_code == 401
    # and the operator passes auth (what the route does next is not ours)
    assert post(operator).status_code not in (401, 403)


def test_the_cookie_is_not_a_token_outside_the_console(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    operator = oidc_issuer.token({"groups": ["flyte-operators"]})
    with_cookie = console.simulate_delete(
        "/v1/packs/nope", cookies={TOKEN_COOKIE: operator}
    )
    assert with_cookie.status_code == 401
    with_header = console.simulate_delete(
        "/v1/packs/nope", headers={"Authorization": f"Bearer {operator}"}
    )
    assert with_header.status_code == 404  # past auth: no such pack


def test_an_expired_cookie_sends_the_browser_back_to_sign_in(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    expired = oidc_issuer.token({"groups": ["flyte-observers"]}, exp=1)
    result = console.simulate_get(
        "/console", headers=BROWSER, cookies={TOKEN_COOKIE: expired}
    )
    assert result.status_code == 303
    assert "reason=invalid" in result.headers["Location"]


def test_the_authorization_header_opens_the_console_too(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-observers"]})
    result = console.simulate_get(
        "/console", headers={**BROWSER, "Authorization": f"Bearer {token}"}
    )
    assert result.status_code == 200


def test_sign_out_clears_the_cookie(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-observers"]})
    result = console.simulate_post(
        "/console/sign-out",
        body=f"csrf_token={CSRF}",
        headers=FORM,
        cookies={TOKEN_COOKIE: token, CSRF_COOKIE: CSRF},
    )
    assert result.status_code == 303
    assert result.headers["Location"].endswith("/console/sign-in")
    cleared = result.cookies[TOKEN_COOKIE]
    assert cleared.value == ""
    assert cleared.path == "/console"
    assert cleared.max_age == 0 or cleared.expires is not None


def test_sign_out_needs_the_csrf_token(
    console: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["flyte-observers"]})
    result = console.simulate_post(
        "/console/sign-out", headers=FORM, cookies={TOKEN_COOKIE: token}
    )
    assert result.status_code == 403
    assert TOKEN_COOKIE not in result.cookies
