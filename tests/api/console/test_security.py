"""The console's CSRF double-submit, Origin check and security headers (auth off)."""

from __future__ import annotations

import pytest
from falcon import testing

from api.console.security import CONTENT_SECURITY_POLICY
from api.console.security import CSRF_COOKIE
from api.console.security import MAX_FORM_BYTES

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def csrf_token(client: testing.TestClient) -> str:
    """The CSRF cookie the console hands a new visitor."""
    result = client.simulate_get("/console/sign-in")
    return result.cookies[CSRF_COOKIE].value


def sign_out(
    client: testing.TestClient,
    *,
    cookie: str | None,
    field: str | None,
    headers: dict[str, str] | None = None,
) -> testing.Result:
    cookies = {CSRF_COOKIE: cookie} if cookie is not None else None
    body = f"csrf_token={field}" if field is not None else ""
    return client.simulate_post(
        "/console/sign-out",
        body=body,
        headers={**FORM, **(headers or {})},
        cookies=cookies,
    )


def test_a_new_visitor_gets_a_csrf_cookie_only_the_console_sees(
    client: testing.TestClient,
) -> None:
    result = client.simulate_get("/console/sign-in")
    cookie = result.cookies[CSRF_COOKIE]
    assert len(cookie.value) >= 32
    assert cookie.path == "/console"
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    assert not cookie.secure  # plain HTTP here


def test_a_visitor_with_a_csrf_cookie_keeps_it(client: testing.TestClient) -> None:
    result = client.simulate_get("/console/sign-in", cookies={CSRF_COOKIE: "kept"})
    assert CSRF_COOKIE not in result.cookies


def test_the_csrf_cookie_is_secure_under_tls(client: testing.TestClient) -> None:
    result = client.simulate_get(
        "/console/sign-in", headers={"X-Forwarded-Proto": "https"}
    )
    assert result.cookies[CSRF_COOKIE].secure


def test_a_post_repeating_the_cookie_is_accepted(client: testing.TestClient) -> None:
    token = csrf_token(client)
    result = sign_out(client, cookie=token, field=token)
    assert result.status_code == 303
    assert result.headers["Location"].endswith("/console/sign-in")


def test_a_post_from_our_own_origin_is_accepted(client: testing.TestClient) -> None:
    token = csrf_token(client)
    origin = {"Origin": "http://example.com"}
    assert (
        sign_out(client, cookie=token, field=token, headers=origin).status_code == 303
    )


def test_a_script_may_send_the_token_in_a_header(client: testing.TestClient) -> None:
    token = csrf_token(client)
    header = {"X-CSRF-Token": token}
    assert sign_out(client, cookie=token, field=None, headers=header).status_code == 303


@pytest.mark.parametrize(
    ("cookie", "field"),
    [(None, None), ("abc", None), (None, "abc"), ("abc", "abd"), ("abc", "")],
    ids=["neither", "no-field", "no-cookie", "mismatch", "empty-field"],
)
def test_a_post_without_the_matching_token_is_403(
    client: testing.TestClient, cookie: str | None, field: str | None
) -> None:
    result = sign_out(client, cookie=cookie, field=field)
    assert result.status_code == 403
    assert result.json["title"] == "CSRF check failed"
    assert result.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "https://example.com", "null"]
)
def test_a_post_from_another_origin_is_403_even_with_the_token(
    client: testing.TestClient, origin: str
) -> None:
    token = csrf_token(client)
    result = sign_out(client, cookie=token, field=token, headers={"Origin": origin})
    assert result.status_code == 403
    assert result.json["title"] == "Cross-origin request refused"


def test_a_post_to_an_unknown_console_path_is_checked_too(
    client: testing.TestClient,
) -> None:
    result = client.simulate_post("/console/queues/x/dead/requeue-all")
    assert result.status_code == 403


def test_an_oversized_console_form_is_refused_unread(
    client: testing.TestClient,
) -> None:
    token = csrf_token(client)
    body = f"csrf_token={token}&pad=" + "x" * MAX_FORM_BYTES
    result = client.simulate_post(
        "/console/sign-out", body=body, headers=FORM, cookies={CSRF_COOKIE: token}
    )
    assert result.status_code == 413


def test_api_posts_need_no_csrf_token(client: testing.TestClient) -> None:
    result = client.simulate_post("/v1/packs/nope/events", json={"event": "X"})
    assert result.status_code == 404  # past any CSRF check: the pack is unknown


@pytest.mark.parametrize(
    "path",
    ["/console", "/console/sign-in", "/console/nowhere", "/console/static/console.css"],
)
def test_console_responses_carry_the_security_headers(
    client: testing.TestClient, path: str
) -> None:
    result = client.simulate_get(path)
    assert result.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert result.headers["X-Content-Type-Options"] == "nosniff"
    assert result.headers["Referrer-Policy"] == "same-origin"
    assert result.headers["X-Frame-Options"] == "DENY"


def test_console_pages_are_not_cached_but_static_files_may_be(
    client: testing.TestClient,
) -> None:
    assert client.simulate_get("/console").headers["Cache-Control"] == "no-store"
    static = client.simulate_get("/console/static/console.css")
    assert static.headers.get("Cache-Control") != "no-store"


def test_api_responses_carry_no_console_headers(client: testing.TestClient) -> None:
    result = client.simulate_get("/v1/packs")
    assert "Content-Security-Policy" not in result.headers
    assert CSRF_COOKIE not in result.cookies


def test_with_auth_off_the_sign_in_page_says_the_console_is_open(
    client: testing.TestClient,
) -> None:
    result = client.simulate_get("/console/sign-in")
    assert result.status_code == 200
    assert "Auth is off" in result.text
    token = csrf_token(client)
    result = client.simulate_post(
        "/console/sign-in",
        body=f"csrf_token={token}&token=anything&next=/console/packs",
        headers=FORM,
        cookies={CSRF_COOKIE: token},
    )
    assert result.status_code == 303
    assert result.headers["Location"].endswith("/console/packs")
    assert "flyte_token" not in result.cookies


def test_the_sign_in_page_answers_head(client: testing.TestClient) -> None:
    result = client.simulate_head("/console/sign-in")
    assert result.status_code == 200
    assert result.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_an_emptied_csrf_cookie_is_replaced(client: testing.TestClient) -> None:
    result = client.simulate_get("/console/sign-in", cookies={CSRF_COOKIE: ""})
    assert len(result.cookies[CSRF_COOKIE].value) >= 32
    assert sign_out(client, cookie="", field="").status_code == 403
