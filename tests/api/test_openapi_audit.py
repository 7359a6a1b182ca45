"""The audit responses conform to api/openapi.yaml (contract tests, real pipeline)."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing
from referencing import Registry

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.queue import WorkQueue
from flyte.store import Stores
from tests.api.test_openapi import YAML
from tests.api.test_openapi import _failing
from tests.api.test_openapi import assert_conforms
from tests.api.test_openapi import document  # noqa: F401 - a fixture
from tests.api.test_openapi import registry  # noqa: F401 - a fixture
from tests.builders import ECHO_FLOW
from tests.conftest import drain

_LIST = "/v1/audit/flows"
_ONE = "/v1/audit/flows/{correlationId}"
#: Every optional key of an audit action: labels, a fired step, one skipped, one
#: failed, and an input that is not a string.
_FLOW = {
    "name": "contract",
    "steps": [
        {
            "id": "labelled",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "command": {
                "packName": "Shell",
                "packLabels": {"env": "prod"},
                "name": "Shell",
                "input": {"argv": ["echo", "{{ Event.Payload.text }}"], "n": 1},
            },
        },
        {
            "id": "never",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "criteria": "{{ false }}",
            "command": {"packName": "Shell", "name": "Shell"},
        },
        {
            "id": "broken",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "criteria": "{{ Event.Payload.nothing }}",
            "command": {"packName": "Shell", "name": "Shell"},
        },
    ],
}


@pytest.fixture
def audited(
    client: testing.TestClient, broker: RedisBroker, worker: Worker
) -> testing.TestClient:
    """Executions in every state: finished, continued, waiting, nothing fired."""
    packs = ({"name": "Slack", "labels": {"team": "ops"}}, {"name": "Shell"})
    for body in packs:
        assert client.simulate_post("/v1/packs", json=body).status_code == 201
    for flow in (ECHO_FLOW, _FLOW):
        assert client.simulate_post("/v1/flows", json=flow).status_code == 201
    for text in ("echo finished", "echo waiting", "nothing fires"):
        body = {"event": "ReceivedMessage", "payload": {"text": text}}
        client.simulate_post("/v1/packs/Slack.team.ops/events", json=body)
        drain(broker, worker)
    taken = client.simulate_post(
        "/v1/packs/Shell/actions/take", query_string="commandName=Shell", body="null"
    )
    result = urlsplit(taken.json["links"][0]["href"]).path
    client.simulate_post(result, json={"event": "Output", "payload": {"stdout": "x"}})
    drain(broker, worker)
    return client


def test_the_list_conforms(
    audited: testing.TestClient,
    document: dict[str, Any],  # noqa: F811
    registry: Registry,  # noqa: F811
) -> None:
    result = audited.simulate_get(_LIST)
    assert result.status_code == 200
    assert len(result.json["flows"]) == 5
    assert_conforms(result, document, registry, _LIST, "GET")
    as_yaml = audited.simulate_get(_LIST, headers={"Accept": YAML})
    assert_conforms(as_yaml, document, registry, _LIST, "GET")
    assert yaml.safe_load(as_yaml.text) == result.json
    head = audited.simulate_head(_LIST, query_string="flowName=echo")
    assert_conforms(head, document, registry, _LIST, "HEAD")


def test_the_empty_list_conforms(
    client: testing.TestClient,
    document: dict[str, Any],  # noqa: F811
    registry: Registry,  # noqa: F811
) -> None:
    result = client.simulate_get(_LIST, query_string="start=0&limit=500")
    assert result.json["flows"] == []
    assert_conforms(result, document, registry, _LIST, "GET")


def test_every_execution_conforms(
    audited: testing.TestClient,
    document: dict[str, Any],  # noqa: F811
    registry: Registry,  # noqa: F811
) -> None:
    correlations = _correlations(audited)
    # Five with actions, and the echo execution "nothing fires" did not fire.
    assert len(correlations) == 6
    for correlation in correlations:
        result = audited.simulate_get(f"/v1/audit/flows/{correlation}")
        assert result.status_code == 200
        assert_conforms(result, document, registry, _ONE, "GET")
        head = audited.simulate_head(f"/v1/audit/flows/{correlation}")
        assert_conforms(head, document, registry, _ONE, "HEAD")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_an_unknown_execution_conforms(
    client: testing.TestClient,
    document: dict[str, Any],  # noqa: F811
    registry: Registry,  # noqa: F811
    method: str,
) -> None:
    result = client.simulate_request(method, "/v1/audit/flows/nope")
    assert result.status_code == 404
    assert_conforms(result, document, registry, _ONE, method)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("query", ["limit=0", "start=-1", "limit=x&start=y"])
def test_a_bad_page_conforms(
    client: testing.TestClient,
    document: dict[str, Any],  # noqa: F811
    registry: Registry,  # noqa: F811
    query: str,
    method: str,
) -> None:
    result = client.simulate_request(method, _LIST, query_string=query)
    assert result.status_code == 400
    assert_conforms(result, document, registry, _LIST, method)


def test_the_bad_page_example_is_what_the_app_answers(
    client: testing.TestClient,
    document: dict[str, Any],  # noqa: F811
) -> None:
    result = client.simulate_get(_LIST, query_string="limit=0")
    content = document["paths"][_LIST]["get"]["responses"]["400"]["content"]
    assert result.json == content["application/json"]["example"]


@pytest.mark.parametrize(
    ("path", "template", "method"),
    [
        ("/v1/audit/flows", _LIST, "find_correlations"),
        ("/v1/audit/flows/c1", _ONE, "find_by_correlation"),
    ],
)
@pytest.mark.parametrize(
    ("error", "status"),
    [(Unavailable("MongoDB is unavailable (AutoReconnect)"), 503), (KeyError(1), 500)],
    ids=["unavailable", "fault"],
)
def test_server_errors_conform(
    settings: Settings,
    stores: Stores,
    queue: WorkQueue,
    document: dict[str, Any],  # noqa: F811
    registry: Registry,  # noqa: F811
    path: str,
    template: str,
    method: str,
    error: Exception,
    status: int,
) -> None:
    failing = dataclasses.replace(stores, audit=_failing(stores.audit, method, error))
    deps = Dependencies(stores=failing, queue=queue, health_checks={})
    result = testing.TestClient(create_app(settings, deps)).simulate_get(path)
    assert result.status_code == status
    assert_conforms(result, document, registry, template, "GET")


def test_the_v1_link_leads_to_the_documented_list(
    client: testing.TestClient,
    document: dict[str, Any],  # noqa: F811
    registry: Registry,  # noqa: F811
) -> None:
    links = client.simulate_get("/v1").json["links"]
    [link] = [x for x in links if x["rel"].endswith("/flowAudit/findFlows")]
    operation = link["rel"].rsplit("/", 1)[-1]
    path = urlsplit(link["href"]).path
    assert document["paths"][path]["get"]["operationId"] == operation
    assert_conforms(client.simulate_get(path), document, registry, path, "GET")


def _correlations(api: testing.TestClient) -> list[str]:
    """Every correlation the events of the fixture started or continued."""
    found: list[str] = []
    for flow in api.simulate_get(_LIST).json["flows"]:
        for evaluation in flow["evaluations"]:
            event = api.simulate_get(f"/v1/events/{evaluation['eventId']}").json
            found += [f["correlationId"] for f in event["flows"]]
    return sorted(set(found))
