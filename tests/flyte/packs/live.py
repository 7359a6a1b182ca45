"""Helpers of the example packs' tests against the real API (``live_api``)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from flyte.sdk import ClientConfig
from flyte.sdk import Pack
from flyte.sdk.runner import PackRunner

#: How long a test waits for an action to finish.
WAIT_SECONDS = 10.0


def post_flow(api: str, flow: dict[str, Any]) -> None:
    """Store ``flow``, failing the test with the API's reasons if it is refused."""
    response = httpx.post(f"{api}/v1/flows", json=flow)
    assert response.status_code == 201, response.text


def start(pack: Pack, api: str) -> PackRunner:
    """Register ``pack`` with the API and start polling, without a health port."""
    return pack.start(ClientConfig(api_url=api, health_port=0))


def wait_for_action(api: str, flow: str, step: str) -> dict[str, Any]:
    """The action of ``step`` in an execution of ``flow``, once one has finished."""
    deadline = time.monotonic() + WAIT_SECONDS
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        answer = httpx.get(f"{api}/v1/audit/flows", params={"flowName": flow})
        seen = [
            e["actions"][step] for e in answer.json()["flows"] if step in e["actions"]
        ]
        for action in seen:
            if action["state"]["value"] in ("SUCCESS", "FATAL"):
                return action
        time.sleep(0.1)
    raise AssertionError(f"{flow}/{step} did not finish: {seen}")
