"""Webhook ingress through the real stores, queue and worker, with signed payloads."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing
from prometheus_client import CollectorRegistry
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from api.app import Dependencies
from api.app import create_app
from api.app import load_openapi
from flyte.auth import load_auth
from flyte.config import Settings
from flyte.datastore import DatastoreItem
from flyte.metrics import Metrics
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store.datastore import DatastoreStore
from tests.api.test_openapi import DOC_URI
from tests.api.test_openapi import assert_conforms
from tests.conftest import FakeClock
from tests.conftest import drain
from tests.flyte.test_webhooks import GITHUB_SECRET
from tests.oidc import Issuer
from tests.oidc import secured_settings
from workers.queue import DramatiqQueue

GITLAB_TOKEN = "glpat-8c3f1e2d"
GITHUB_HOOK = {
    "pack": "GitHub",
    "eventHeader": "X-GitHub-Event",
    "keepHeaders": ["X-GitHub-Delivery"],
    "signature": {"type": "github", "secret": "github-secret"},
}
GITLAB_HOOK = {
    "pack": "GitLab",
    "eventHeader": "X-Gitlab-Event",
    "signature": {"type": "gitlab", "secret": "gitlab-token"},
}
#: A flow that asks the Shell pack to echo the pushed branch.
PUSH_FLOW = {
    "name": "on-push",
    "steps": [
        {
            "id": "push",
            "event": {"packName": "GitHub", "name": "push"},
            "criteria": "{{ Event.Payload.body.ref == 'refs/heads/main' }}",
            "command": {
                "packName": "Shell",
                "name": "Shell",
                "input": "echo {{ Event.Payload.body.ref }}"
                " {{ Event.Payload.headers['x-github-delivery'] }}",
            },
        }
    ],
}
PUSH = json.dumps({"ref": "refs/heads/main", "after": "9fceb02"}).encode()


@pytest.fixture
def secret_stores(stores: Stores) -> Stores:
    """The test's stores with a key for secrets, holding both signing secrets."""
    box = SecretBox(generate_key())
    secret_stores = dataclasses.replace(
        stores, datastore=DatastoreStore(stores.db, box)
    )
    for key, value in (
        ("github-secret", GITHUB_SECRET),
        ("gitlab-token", GITLAB_TOKEN),
    ):
        item = DatastoreItem(key=key, value=value.encode(), secret=True)
        secret_stores.datastore.put(item)
    return secret_stores


@pytest.fixture
def api(
    settings: Settings, secret_stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> testing.TestClient:
    """The app with the GitHub and GitLab webhooks and the Shell pack."""
    deps = Dependencies(
        stores=secret_stores, queue=queue, health_checks={}, clock=clock
    )
    client = testing.TestClient(create_app(settings, deps), headers={"Host": "x.io"})
    for name, hook in (("github", GITHUB_HOOK), ("gitlab", GITLAB_HOOK)):
        assert (
            client.simulate_put(f"/v1/webhooks/{name}/config", json=hook).status_code
            == 201
        )
    return client


@pytest.fixture
def registry() -> Registry:
    """A schema registry holding the OpenAPI document, so its ``$ref``s resolve."""
    resource = Resource.from_contents(load_openapi(), default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(DOC_URI, resource)
    return registry


def github_signature(body: bytes, secret: str = GITHUB_SECRET) -> str:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def deliver_github(
    api: testing.TestClient,
    body: bytes = PUSH,
    *,
    signature: str | None = None,
    delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    event: str = "push",
) -> testing.Result:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": signature or github_signature(body),
    }
    return api.simulate_post("/v1/webhooks/github", body=body, headers=headers)


def stored_event(stores: Stores, event_id: str) -> dict[str, Any]:
    doc = stores.db["event"].find_one({"_id": event_id})
    assert doc is not None
    event: dict[str, Any] = doc["event"]
    return event


def test_githubs_documented_example_is_accepted(
    api: testing.TestClient, secret_stores: Stores
) -> None:
    # The body GitHub's docs sign is not JSON; as JSON text it is a string.
    body = b'"Hello, World!"'
    signature = github_signature(body)
    resp = deliver_github(api, body, signature=signature, event="ping")
    assert resp.status_code == 202
    # And the documented signature over the documented bytes checks out.
    assert github_signature(b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    doc = stored_event(secret_stores, resp.json["id"])
    assert doc["name"] == "ping"
    assert doc["payload"]["body"] == "Hello, World!"


def test_a_signed_delivery_is_stored_queued_and_located(
    api: testing.TestClient, secret_stores: Stores, registry: Registry
) -> None:
    resp = deliver_github(api)
    assert resp.status_code == 202
    assert resp.headers["location"] == f"http://x.io/v1/events/{resp.json['id']}"
    assert_conforms(
        resp, load_openapi(), registry, "/v1/webhooks/{webhookName}", "POST"
    )
    doc = stored_event(secret_stores, resp.json["id"])
    assert (doc["name"], doc["pack"]["name"]) == ("push", "GitHub")
    assert doc["payload"] == {
        "body": {"ref": "refs/heads/main", "after": "9fceb02"},
        "headers": {"x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"},
    }


@pytest.mark.parametrize(
    "signature",
    [
        github_signature(PUSH, "not the secret"),
        github_signature(PUSH + b" "),
        github_signature(PUSH).removeprefix("sha256="),
    ],
)
def test_a_forged_github_delivery_is_401_and_nothing_is_kept(
    api: testing.TestClient, secret_stores: Stores, signature: str
) -> None:
    resp = deliver_github(api, signature=signature)
    assert resp.status_code == 401
    assert resp.json["status"] == 401
    assert "X-Hub-Signature-256" in resp.json["description"]
    assert secret_stores.db["event"].count_documents({}) == 0


def test_an_unsigned_delivery_is_401(api: testing.TestClient) -> None:
    resp = api.simulate_post("/v1/webhooks/github", body=PUSH)
    assert resp.status_code == 401
    assert "missing" in resp.json["description"]


def test_a_redelivery_is_answered_with_the_first_event(
    api: testing.TestClient, secret_stores: Stores
) -> None:
    first = deliver_github(api)
    again = deliver_github(api)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json == first.json
    assert secret_stores.db["event"].count_documents({}) == 1
    other = deliver_github(api, delivery="another-delivery")
    assert other.json["id"] != first.json["id"]
    assert secret_stores.db["event"].count_documents({}) == 2


def test_gitlab_deliveries_carry_the_shared_token(
    api: testing.TestClient, secret_stores: Stores
) -> None:
    # GitLab's example: a push hook, X-Gitlab-Event "Push Hook".
    body = json.dumps({"object_kind": "push", "ref": "refs/heads/main"})
    headers = {
        "X-Gitlab-Event": "Push Hook",
        "X-Gitlab-Token": GITLAB_TOKEN,
        "X-Gitlab-Event-UUID": "13792a34-cac6-4fda-95a8-c58e00a3954e",
    }
    resp = api.simulate_post("/v1/webhooks/gitlab", body=body, headers=headers)
    assert resp.status_code == 202
    assert stored_event(secret_stores, resp.json["id"])["name"] == "Push Hook"
    again = api.simulate_post("/v1/webhooks/gitlab", body=body, headers=headers)
    assert again.json["id"] == resp.json["id"]
    headers["X-Gitlab-Token"] = "glpat-guessed"
    forged = api.simulate_post("/v1/webhooks/gitlab", body=body, headers=headers)
    assert forged.status_code == 401


def test_a_generic_hmac_webhook(api: testing.TestClient, secret_stores: Stores) -> None:
    hook = {
        "event": "alert",
        "signature": {
            "type": "hmac",
            "secret": "gitlab-token",
            "header": "X-Alert-Signature",
            "algorithm": "sha512",
            "prefix": "v1=",
        },
    }
    assert api.simulate_put("/v1/webhooks/alerts/config", json=hook).status_code == 201
    body = b'{"alert": "disk full"}'
    digest = hmac.new(GITLAB_TOKEN.encode(), body, hashlib.sha512).hexdigest()
    headers = {"X-Alert-Signature": f"v1={digest}"}
    resp = api.simulate_post("/v1/webhooks/alerts", body=body, headers=headers)
    assert resp.status_code == 202
    doc = stored_event(secret_stores, resp.json["id"])
    assert (doc["name"], doc["pack"]["name"]) == ("alert", "webhook-alerts")
    headers = {"X-Alert-Signature": digest}
    assert (
        api.simulate_post("/v1/webhooks/alerts", body=body, headers=headers).status_code
        == 401
    )


def test_webhooks_have_the_body_limit_of_events(
    settings: Settings, secret_stores: Stores, queue: DramatiqQueue
) -> None:
    small = dataclasses.replace(settings, max_body_bytes=64)
    deps = Dependencies(stores=secret_stores, queue=queue, health_checks={})
    client = testing.TestClient(create_app(small, deps))
    hook = {"signature": {"type": "github", "secret": "github-secret"}}
    client.simulate_put("/v1/webhooks/github/config", json=hook)
    body = json.dumps({"padding": "x" * 100}).encode()
    resp = deliver_github(client, body)
    assert resp.status_code == 413
    assert secret_stores.db["event"].count_documents({}) == 0


def test_a_signed_body_that_is_not_json_is_400(api: testing.TestClient) -> None:
    resp = deliver_github(api, b"payload=%7B%7D")
    assert resp.status_code == 400
    assert "invalid JSON" in resp.json["description"] + json.dumps(
        resp.json["problems"]
    )


def test_an_unknown_webhook_is_404(api: testing.TestClient) -> None:
    assert api.simulate_post("/v1/webhooks/nope", body=PUSH).status_code == 404
    assert api.simulate_get("/v1/webhooks/nope/config").status_code == 404


def test_configuration_by_api_lists_replaces_and_deletes(
    api: testing.TestClient, registry: Registry
) -> None:
    listed = api.simulate_get("/v1/webhooks")
    assert_conforms(listed, load_openapi(), registry, "/v1/webhooks", "GET")
    assert [hook["name"] for hook in listed.json["webhooks"]] == ["github", "gitlab"]
    shown = api.simulate_get("/v1/webhooks/github/config")
    assert_conforms(
        shown, load_openapi(), registry, "/v1/webhooks/{webhookName}/config", "GET"
    )
    assert shown.json["signature"] == {"type": "github", "secret": "github-secret"}
    assert shown.json["deliveryHeader"] == "X-GitHub-Delivery"
    replaced = api.simulate_put(
        "/v1/webhooks/github/config",
        body="pack: GitHub\nevent: push\n",
        headers={"Content-Type": "application/x-yaml"},
    )
    assert replaced.status_code == 200
    assert replaced.json["signature"] == {"type": "none"}
    assert api.simulate_delete("/v1/webhooks/github/config").status_code == 204
    assert api.simulate_post("/v1/webhooks/github", body=PUSH).status_code == 404


def test_a_bad_configuration_is_400_with_its_problems(api: testing.TestClient) -> None:
    hook = {"signature": {"type": "hmac", "secret": "k", "algorithm": "md5"}}
    resp = api.simulate_put("/v1/webhooks/alerts/config", json=hook)
    assert resp.status_code == 400
    locations = {problem["location"] for problem in resp.json["problems"]}
    assert locations == {"signature.algorithm", "signature.header"}


def test_a_github_push_fires_a_flow_through_a_real_worker(
    api: testing.TestClient,
    secret_stores: Stores,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    assert api.simulate_post("/v1/packs", json={"name": "Shell"}).status_code == 201
    assert api.simulate_post("/v1/flows", json=PUSH_FLOW).status_code == 201
    resp = deliver_github(api)
    assert resp.status_code == 202
    drain(broker, worker)
    taken = api.simulate_post("/v1/packs/Shell/actions/take")
    assert taken.status_code == 200
    assert taken.json["input"] == (
        "echo refs/heads/main 72d3162e-cc78-11e3-81ab-4c9367dc0958"
    )
    outcome = api.simulate_get(f"/v1/events/{resp.json['id']}")
    assert outcome.json["status"] == "processed", outcome.json


#: Senders carry no bearer token: deliveries are open, their signature is the check.
POLICY = """
- path: /v1/webhooks/:name
  methods: [POST]
- path: /v1/webhooks/:name/config
  methods: [GET, PUT, DELETE]
  claims:
    groups: [flyte-admins]
"""


def test_with_auth_on_deliveries_need_their_signature_and_no_token(
    settings: Settings,
    secret_stores: Stores,
    queue: DramatiqQueue,
    oidc_issuer: Issuer,
    tmp_path: Path,
) -> None:
    auth_settings = secured_settings(settings, oidc_issuer, tmp_path, POLICY)
    deps = Dependencies(
        stores=secret_stores,
        queue=queue,
        health_checks={},
        auth=load_auth(auth_settings),
    )
    client = testing.TestClient(create_app(auth_settings, deps))
    token = oidc_issuer.token({"groups": ["flyte-admins"]})
    admin = {"Authorization": f"Bearer {token}"}
    path = "/v1/webhooks/github/config"
    assert client.simulate_put(path, json=GITHUB_HOOK).status_code == 401
    assert client.simulate_put(path, json=GITHUB_HOOK, headers=admin).status_code == 201
    assert deliver_github(client).status_code == 202
    forged = deliver_github(client, signature=github_signature(PUSH, "guess"))
    assert forged.status_code == 401


def test_a_missing_signing_secret_is_401_and_one_warning(
    api: testing.TestClient, secret_stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    secret_stores.datastore.delete("github-secret")
    with caplog.at_level(logging.DEBUG):
        resp = deliver_github(api)
    assert resp.status_code == 401
    assert resp.json["description"] == "the webhook's signing secret is not set"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert "github-secret" in warnings[0].getMessage()


def test_the_signing_secret_appears_in_no_log_line(
    api: testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        assert deliver_github(api).status_code == 202
        forged = deliver_github(api, signature=github_signature(PUSH, "guess"))
        assert forged.status_code == 401
    assert GITHUB_SECRET not in caplog.text
    assert GITLAB_TOKEN not in caplog.text


def test_deliveries_are_counted_as_webhook_events(
    settings: Settings, secret_stores: Stores, queue: DramatiqQueue
) -> None:
    registry = CollectorRegistry()
    deps = Dependencies(
        stores=secret_stores, queue=queue, health_checks={}, metrics=Metrics(registry)
    )
    client = testing.TestClient(create_app(settings, deps))
    client.simulate_put("/v1/webhooks/github/config", json=GITHUB_HOOK)
    assert deliver_github(client).status_code == 202
    assert deliver_github(client, signature="sha256=0").status_code == 401
    accepted = registry.get_sample_value(
        "flyte_events_accepted_total", {"kind": "webhook"}
    )
    refused = registry.get_sample_value(
        "flyte_events_refused_total",
        {"kind": "webhook", "reason": "signature_refused"},
    )
    assert (accepted, refused) == (1, 1)
