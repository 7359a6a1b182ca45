"""Datastore secrets and TTLs through the API: the form fields, what is served, auth."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.auth import load_auth
from flyte.config import Settings
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store.datastore import DatastoreStore
from tests.api.test_datastore import Part
from tests.api.test_datastore import form
from tests.api.test_datastore import put
from tests.conftest import FakeClock
from tests.flyte.store.test_datastore_secrets import database_text
from tests.oidc import Issuer
from tests.oidc import secured_settings

PLAINTEXT = "xoxb-4f2a9c1d-secret"
#: Secret values go to a few: admins read them, users read everything else.
POLICY = """
- path: /v1/*
  methods: [GET]
  claims:
    groups: [flyte-users, flyte-admins]
- path: /v1/datastore/:key
  methods: [GET, PUT]
  claims:
    groups: [flyte-users, flyte-admins]
- path: /v1/datastore/:key/secret-value
  methods: [GET]
  claims:
    groups: [flyte-admins]
"""


def field(name: str, text: str) -> Part:
    return (name, text.encode(), None, None)


def bearer(issuer: Issuer, group: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issuer.token({'groups': [group]})}"}


def secret_parts(value: str = PLAINTEXT) -> tuple[Part, ...]:
    return (field("value", value), field("secret", "true"))


@pytest.fixture
def secret_stores(stores: Stores) -> Stores:
    """The test's stores, with a key for secrets."""
    box = SecretBox(generate_key())
    return dataclasses.replace(stores, datastore=DatastoreStore(stores.db, box))


@pytest.fixture
def deps(secret_stores: Stores, queue: object, clock: FakeClock) -> Dependencies:
    return Dependencies(
        stores=secret_stores,
        queue=queue,  # type: ignore[arg-type]
        health_checks={},
        clock=clock,
    )


@pytest.fixture
def secret_client(settings: Settings, deps: Dependencies) -> testing.TestClient:
    """Auth off, a key for secrets."""
    return testing.TestClient(create_app(settings, deps), headers={"Host": "x.io"})


def test_storing_a_secret_without_a_key_is_a_400_naming_the_setting(
    client: testing.TestClient,
) -> None:
    result = put(client, "slack-token", *secret_parts())
    assert result.status_code == 400
    assert "FLYTE_SECRETS_KEY" in result.json["description"]
    assert result.json["problems"][0]["location"] == "secret"


def test_a_secret_is_stored_but_never_served_or_listed_with_auth_off(
    secret_client: testing.TestClient, secret_stores: Stores
) -> None:
    assert put(secret_client, "slack-token", *secret_parts()).status_code == 201
    plain = secret_client.simulate_get("/v1/datastore/slack-token")
    assert plain.status_code == 401
    assert "secret-value" in plain.json["description"]
    served = secret_client.simulate_get("/v1/datastore/slack-token/secret-value")
    assert served.status_code == 401
    listed = secret_client.simulate_get("/v1/datastore").json["datastore"]
    assert listed[0]["key"] == "slack-token" and listed[0]["secret"] is True
    for result in (plain, served):
        assert PLAINTEXT not in result.text
    assert PLAINTEXT not in database_text(secret_stores.db)
    # Flows still read it (see tests/workers for secret() in a flow).
    assert secret_stores.datastore.reveal_secret("slack-token") == PLAINTEXT


def test_bad_secret_and_ttl_fields_are_400s(
    secret_client: testing.TestClient,
) -> None:
    for parts, path in (
        ((field("value", "v"), field("secret", "maybe")), "secret"),
        ((field("value", "v"), field("ttl", "ten")), "ttl"),
        ((field("value", "v"), field("ttl", "0")), "ttl"),
        ((("value", b"\xff\xfe", None, None), field("secret", "true")), "value"),
    ):
        result = put(secret_client, "k", *parts)
        assert result.status_code == 400, parts
        assert result.json["problems"][0]["location"] == path


def test_an_item_with_a_ttl_is_listed_with_its_expiry_and_gone_after_it(
    secret_client: testing.TestClient,
) -> None:
    parts = (field("value", "1"), field("ttl", "1"))
    assert put(secret_client, "ran-restart", *parts).status_code == 201
    listed = secret_client.simulate_get("/v1/datastore").json["datastore"]
    assert listed[0]["expiresAt"].endswith("Z")
    assert secret_client.simulate_get("/v1/datastore/ran-restart").text == "1"
    time.sleep(1.05)
    assert secret_client.simulate_get("/v1/datastore/ran-restart").status_code == 404
    assert secret_client.simulate_get("/v1/datastore").json["datastore"] == []
    # Stored again without a TTL, it stays.
    assert put(secret_client, "ran-restart", field("value", "2")).status_code in (
        201,
        204,
    )
    assert secret_client.simulate_get("/v1/datastore/ran-restart").text == "2"


def test_with_auth_on_the_policy_grants_the_secret_value_to_a_few(
    settings: Settings, deps: Dependencies, oidc_issuer: Issuer, tmp_path: Path
) -> None:
    auth_settings = secured_settings(settings, oidc_issuer, tmp_path, POLICY)
    app = create_app(
        auth_settings, dataclasses.replace(deps, auth=load_auth(auth_settings))
    )
    client = testing.TestClient(app, headers={"Host": "x.io"})
    admin = {
        "Authorization": f"Bearer {oidc_issuer.token({'groups': ['flyte-admins']})}"
    }
    user = {"Authorization": f"Bearer {oidc_issuer.token({'groups': ['flyte-users']})}"}
    body_parts = secret_parts()

    body, headers = form(*body_parts)
    stored = client.simulate_put(
        "/v1/datastore/slack-token", body=body, headers={**headers, **admin}
    )
    assert stored.status_code == 201
    path = "/v1/datastore/slack-token/secret-value"
    assert client.simulate_get(path, headers=user).status_code == 401
    revealed = client.simulate_get(path, headers=admin)
    assert revealed.status_code == 200 and revealed.text == PLAINTEXT
    assert revealed.headers["cache-control"] == "no-store"
    plain = client.simulate_get("/v1/datastore/slack-token", headers=admin)
    assert plain.status_code == 401
