"""Helpers of the tests that drive packs through the real API (``live_api``)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from flyte.sdk import ClientConfig
from flyte.sdk import Pack
from flyte.sdk.runner import PackRunner

#: How long a test waits for actions to reach a state.
WAIT_SECONDS = 10.0
FINISHED = frozenset({"SUCCESS", "FATAL"})


def post_flow(api: str, flow: dict[str, Any]) -> None:
    """Store ``flow``, failing the test with the API's reasons if it is refused."""
    response = httpx.post(f"{api}/v1/flows", json=flow)
    assert response.status_code == 201, response.text


def start(pack: Pack, api: str) -> PackRunner:
    """Register ``pack`` with the API and start polling, without a health port."""
    return pack.start(ClientConfig(api_url=api, health_port=0))


def actions_of(api: str, flow: str, token: str | None = None) -> list[dict[str, Any]]:
    """Every action of every execution of ``flow``, from the audit."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    params = {"flowName": flow}
    answer = httpx.get(f"{api}/v1/audit/flows", params=params, headers=headers)
    return [a for e in answer.json()["flows"] for a in e["actions"].values()]


def wait_for_actions(
    api: str,
    flow: str,
    count: int,
    states: frozenset[str] | set[str],
    step: str | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    """At least ``count`` actions of ``flow`` (of ``step``) in one of ``states``."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = [
            a
            for a in actions_of(api, flow, token)
            if a["state"]["value"] in states and step in (None, a["stepId"])
        ]
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{flow}: only {found} in {states}"
        time.sleep(0.05)


def wait_for_action(
    api: str, flow: str, step: str, token: str | None = None
) -> dict[str, Any]:
    """The action of ``step`` in an execution of ``flow``, once one has finished."""
    return wait_for_actions(api, flow, 1, FINISHED, step, token)[0]
