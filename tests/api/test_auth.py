"""The auth middleware over HTTP: upstream's auth/oidc_test.go table, and more."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import redis
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.auth import load_auth
from flyte.config import Settings
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.store import Stores
from tests.builders import make_pack_body
from tests.conftest import FakeClock
from tests.flyte.test_policy import UPSTREAM_POLICY
from tests.oidc import Issuer
from tests.oidc import secured_settings
from workers.queue import DramatiqQueue

#: Upstream's example policy plus a pack rule with a dynamic claim.
POLICY = (
    UPSTREAM_POLICY
    + """
- path: /v1/packs/:pack/events
  methods: [POST]
  claims:
    pack: [":pack"]
"""
)
MISSING = 'Bearer realm="token"'
INVALID = 'Bearer realm="token", error="invalid_token"'


@pytest.fixture
def auth_settings(settings: Settings, oidc_issuer: Issuer, tmp_path: Path) -> Settings:
    return secured_settings(settings, oidc_issuer, tmp_path, POLICY)


@pytest.fixture
def deps(
    stores: Stores, queue: DramatiqQueue, redis_client: redis.Redis, clock: FakeClock
) -> Dependencies:
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    return Dependencies(stores=stores, queue=queue, health_checks=checks, clock=clock)


@pytest.fixture
def auth_client(auth_settings: Settings, deps: Dependencies) -> testing.TestClient:
    """A client of an app with auth on (the verifier built from the settings)."""
    deps = dataclasses.replace(deps, auth=load_auth(auth_settings))
    return testing.TestClient(
        create_app(auth_settings, deps), headers={"Host": "example.com"}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_open_path_needs_no_token(auth_client: testing.TestClient) -> None:
    assert auth_client.simulate_get("/v1/packs").status_code == 200


def test_missing_token_is_401_with_a_bearer_challenge(
    auth_client: testing.TestClient,
) -> None:
    resp = auth_client.simulate_delete("/v1/packs/foo-pack")
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == MISSING
    assert resp.json["status"] == 401


def test_garbage_token_is_401_invalid_token(auth_client: testing.TestClient) -> None:
    resp = auth_client.simulate_delete(
        "/v1/packs/foo-pack", headers=bearer("this-is-not-a-valid-token")
    )
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == INVALID


@pytest.mark.parametrize(
    "overrides",
    [{"exp": 1}, {"nbf": 4102444800}, {"aud": "other"}, {"iss": "http://evil"}],
    ids=["expired", "not-yet-valid", "wrong-aud", "wrong-iss"],
)
def test_invalid_tokens_are_401_invalid_token(
    auth_client: testing.TestClient, oidc_issuer: Issuer, overrides: dict
) -> None:
    token = oidc_issuer.token({"groups": ["packadmin"]}, **overrides)
    resp = auth_client.simulate_delete("/v1/packs/foo-pack", headers=bearer(token))
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == INVALID


def test_unmet_claims_are_401_without_a_challenge(
    auth_client: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["packadmin"]})
    resp = auth_client.simulate_post("/v1/packs/foo-pack", headers=bearer(token))
    assert resp.status_code == 401
    assert "www-authenticate" not in resp.headers
    assert resp.json["status"] == 401


def test_met_claims_reach_the_resource(
    auth_client: testing.TestClient, client: testing.TestClient, oidc_issuer: Issuer
) -> None:
    # Given a pack registered through an app without auth (same database)
    assert client.simulate_post("/v1/packs", json=make_pack_body()).status_code == 201
    token = oidc_issuer.token({"groups": ["packadmin"]})
    # When a packadmin deletes it, the lower-case scheme is accepted too
    resp = auth_client.simulate_delete(
        "/v1/packs/Slack", headers={"Authorization": f"bearer {token}"}
    )
    assert resp.status_code == 204


def test_a_bare_token_without_the_bearer_prefix_is_accepted(
    auth_client: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["packadmin"]})
    resp = auth_client.simulate_delete(
        "/v1/packs/nope", headers={"Authorization": token}
    )
    assert resp.status_code == 404  # past auth: the pack does not exist


@pytest.mark.parametrize("path", ["/", "/health", "/v1/swagger", "/v1/nowhere"])
def test_paths_without_a_policy_are_401_without_a_challenge(
    auth_client: testing.TestClient, path: str
) -> None:
    resp = auth_client.simulate_get(path)
    assert resp.status_code == 401
    assert "www-authenticate" not in resp.headers
    assert resp.json["status"] == 401


def test_a_token_allowed_to_get_a_path_may_head_it(
    auth_client: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["dev"]})
    get = auth_client.simulate_get("/v1/datastore/nope", headers=bearer(token))
    head = auth_client.simulate_head("/v1/datastore/nope", headers=bearer(token))
    assert (get.status_code, head.status_code) == (404, 404)  # both past auth
    assert auth_client.simulate_head("/v1/packs").status_code == 200


def test_head_needs_the_claims_of_get(
    auth_client: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["packadmin"]})
    resp = auth_client.simulate_head("/v1/datastore/nope", headers=bearer(token))
    assert resp.status_code == 401


def test_head_is_401_where_the_policy_has_no_get(
    auth_client: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"pack": "foo-pack"})
    resp = auth_client.simulate_head("/v1/packs/foo-pack/events", headers=bearer(token))
    assert resp.status_code == 401


def test_a_route_without_the_method_is_401(auth_client: testing.TestClient) -> None:
    resp = auth_client.simulate_post("/v1/packs", json=make_pack_body())
    assert resp.status_code == 401


@pytest.mark.parametrize(
    ("claim", "status"), [("foo-pack", 404), ("another-pack", 401)]
)
def test_a_pack_claim_is_matched_against_the_path(
    auth_client: testing.TestClient, oidc_issuer: Issuer, claim: str, status: int
) -> None:
    token = oidc_issuer.token({"pack": claim})
    resp = auth_client.simulate_post(
        "/v1/packs/foo-pack/events", json={"event": "X"}, headers=bearer(token)
    )
    assert resp.status_code == status  # 404: past auth, no such pack


@pytest.mark.parametrize(
    ("claim", "status"), [("team/deploy", 404), ("team", 401), ("deploy", 401)]
)
def test_a_pack_claim_holding_a_slash_is_matched_against_the_escaped_path(
    auth_client: testing.TestClient, oidc_issuer: Issuer, claim: str, status: int
) -> None:
    # As a WSGI server passes it: the path decoded, the raw target as sent
    token = oidc_issuer.token({"pack": claim})
    resp = auth_client.simulate_post(
        "/v1/packs/team/deploy/events",
        json={"event": "X"},
        headers=bearer(token),
        extras={"RAW_URI": "/v1/packs/team%2Fdeploy/events"},
    )
    assert resp.status_code == status  # 404: past auth, no such pack


def test_the_policy_may_open_health(
    auth_settings: Settings, deps: Dependencies, tmp_path: Path
) -> None:
    policy = tmp_path / "open-health.yaml"
    policy.write_text("- path: /health\n  methods: [GET]\n")
    settings = dataclasses.replace(auth_settings, auth_policy_path=str(policy))
    client = testing.TestClient(create_app(settings, deps))
    assert client.simulate_get("/health").status_code == 200
    assert client.simulate_get("/").status_code == 401


def test_auth_is_off_without_all_three_settings(
    auth_settings: Settings, deps: Dependencies
) -> None:
    settings = dataclasses.replace(auth_settings, oidc_client_id=None)
    client = testing.TestClient(create_app(settings, deps))
    assert client.simulate_get("/health").status_code == 200
