"""Console test data: packs, a flow and events through the real pipeline."""

from __future__ import annotations

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from flyte.store import Stores
from tests.api.test_runtime import result_path
from tests.api.test_runtime import send
from tests.api.test_runtime import take
from tests.builders import ECHO_FLOW
from tests.conftest import drain

#: Markup that would run if a page forgot to escape it.
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "</script><script>alert(2)</script>"


@pytest.fixture
def console(client: testing.TestClient) -> testing.TestClient:
    """The API with the Slack and Shell packs registered and the echo flow stored."""
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    client.simulate_post("/v1/packs", json={"name": "Shell"})
    assert client.simulate_post("/v1/flows", json=ECHO_FLOW).status_code == 201
    return client


@pytest.fixture
def ran(
    console: testing.TestClient, broker: RedisBroker, worker: Worker, stores: Stores
) -> dict[str, str]:
    """One echo execution run to its end: event, action taken, result, reply.

    Returns the trigger event's id, the correlation id and the first action's id.
    """
    posted = send(console, "echo hello")
    drain(broker, worker)
    path = result_path(take(console, "Shell"))
    action_id = path.split("/")[-2]
    console.simulate_post(path, json={"event": "Output", "payload": {"stdout": "hi"}})
    drain(broker, worker)
    return {
        "event_id": posted.json["id"],
        "correlation_id": stores.actions.get(action_id).correlation_id,
        "action_id": action_id,
    }
