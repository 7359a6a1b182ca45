"""Signing in to the console in Chromium, against ``flyte dev`` with auth on.

The OIDC issuer is the tests' own (tests/oidc.py); the policy lets operators
(``groups: [flyte-operators]``) open every console page, and nobody else.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.browser.consoledev import BrowserTrouble
from tests.browser.consoledev import DevServer
from tests.browser.consoledev import running_dev
from tests.browser.consoledev import screenshot
from tests.oidc import CLIENT_ID
from tests.oidc import Issuer
from tests.oidc import new_rsa_key

pytestmark = pytest.mark.slow

POLICY = """\
- path: /health
  methods: [GET, HEAD]
- path: /console
  methods: [GET]
  claims:
    groups: [flyte-operators]
- path: /console/*
  claims:
    groups: [flyte-operators]
"""
OPERATOR = {"groups": ["flyte-operators"]}


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    """The OIDC issuer the server trusts."""
    issuer = Issuer()
    yield issuer
    issuer.stop()


@pytest.fixture(scope="module")
def secured(
    tmp_path_factory: pytest.TempPathFactory, issuer: Issuer
) -> Iterator[DevServer]:
    """``flyte dev`` with auth on: the policy above and the tests' issuer."""
    data_dir = tmp_path_factory.mktemp("console-auth")
    policy = Path(data_dir / "policy.yaml")
    policy.write_text(POLICY)
    env = {
        "FLYTE_AUTH_POLICY_PATH": str(policy),
        "FLYTE_OIDC_ISSUER_URL": issuer.url,
        "FLYTE_OIDC_ISSUER_CLIENT_ID": CLIENT_ID,
    }
    with running_dev(data_dir, env) as dev:
        yield dev


def sign_in(page: Page, token: str) -> None:
    """Paste ``token`` into the sign-in form and send it."""
    page.locator("textarea[name='token']").fill(token)
    page.get_by_role("button", name="Sign in").click()


def test_an_operator_signs_in_with_a_token_and_out_again(
    secured: DevServer, issuer: Issuer, page: Page
) -> None:
    # When a browser without a token opens the console
    page.goto(f"{secured.base}/console/packs")
    # Then it is sent to the sign-in form
    expect(page).to_have_url(re.compile(r"/console/sign-in\?"))
    screenshot(page, "sign-in")
    # When the operator pastes a valid token
    sign_in(page, issuer.token(OPERATOR))
    # Then the page asked for opens, and the token sits in an HttpOnly cookie
    expect(page).to_have_url(f"{secured.base}/console/packs")
    expect(page.locator("h1")).to_be_visible()
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "flyte_token"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/console"
    # When the operator signs out
    page.get_by_role("button", name="Sign out").click()
    # Then the console asks for a token again
    page.goto(f"{secured.base}/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?"))


@pytest.mark.parametrize(
    "kind",
    ["not a token", "signed by another key", "expired", "without the group"],
)
def test_a_bad_token_is_refused_and_opens_nothing(
    kind: str,
    secured: DevServer,
    issuer: Issuer,
    page: Page,
    browser_trouble: BrowserTrouble,
) -> None:
    tokens: dict[str, Callable[[], str]] = {
        "not a token": lambda: "not-a-token",
        "signed by another key": lambda: jwt.encode(
            {"iss": issuer.url, "aud": CLIENT_ID, "exp": 2**31, **OPERATOR},
            new_rsa_key(),
            "RS256",
            headers={"kid": "key-1"},
        ),
        "expired": lambda: issuer.token(OPERATOR, exp=1_000_000_000),
        "without the group": lambda: issuer.token({"groups": ["observers"]}),
    }
    # Given the sign-in form
    page.goto(f"{secured.base}/console/sign-in")
    # When a bad token is pasted (its refusal is the one error the browser logs)
    browser_trouble.expect_refusal("/console/sign-in", 401)
    sign_in(page, tokens[kind]())
    # Then the sign-in form says why, and no page of the console opens
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    expect(page.locator(".error, .notice").first).to_be_visible()
    page.goto(f"{secured.base}/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?"))
