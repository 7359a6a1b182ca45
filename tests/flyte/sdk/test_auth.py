"""Packs and the CLI send FLYTE_JWT, and work against the API with auth on.

The policy is the packs-and-humans example of docs/security.md, so the doc's
advice is checked with a real pack as well as policy by policy.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from api.app import Dependencies
from api.app import create_app
from flyte.auth import load_auth
from flyte.cli import main
from flyte.config import Settings
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.sdk import ClientConfig
from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.sdk.errors import ApiError
from flyte.store import Stores
from tests.conftest import serve
from tests.flyte.test_policy import documented_policy_text
from tests.live import wait_for_action
from tests.oidc import Issuer
from tests.oidc import secured_settings
from workers.queue import DramatiqQueue


@pytest.fixture
def secured_api(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    redis_client: redis.Redis,
    worker: Any,
    oidc_issuer: Issuer,
    tmp_path: Path,
) -> Iterator[str]:
    """The API over HTTP, with auth on and the documented policy."""
    secured = secured_settings(
        settings, oidc_issuer, tmp_path, documented_policy_text()
    )
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    deps = Dependencies(
        stores=stores, queue=queue, health_checks=checks, auth=load_auth(secured)
    )
    with serve(create_app(secured, deps)) as url:
        yield url


def echo_pack() -> Pack:
    pack = Pack("Echo", events=["Go"], polling_interval=0.5)

    @pack.command("Echo", events=["Echoed"])
    def echo(value: Any) -> Event:
        return Event("Echoed", value)

    return pack


def cli(api: str, token: str, *args: str) -> int:
    return main([*args], environ={"FLYTE_API": api, "FLYTE_JWT": token})


def test_a_pack_with_its_token_runs_a_flow_under_the_documented_policy(
    secured_api: str, oidc_issuer: Issuer, tmp_path: Path
) -> None:
    admin = oidc_issuer.token({"groups": ["flyte-admins"]})
    flow = {
        "name": "echo",
        "steps": [
            {
                "id": "echo",
                "event": {"packName": "Echo", "name": "Go"},
                "command": {"packName": "Echo", "name": "Echo", "input": "hi"},
            }
        ],
    }
    flow_file = tmp_path / "echo.json"
    flow_file.write_text(json.dumps(flow))
    # Given the flow applied by an admin with the CLI and FLYTE_JWT
    assert cli(secured_api, admin, "flows", "apply", str(flow_file)) == 0
    # When the pack runs with its own token
    pack_token = oidc_issuer.token({"groups": ["flyte-packs"], "pack": "Echo"})
    config = ClientConfig(api_url=secured_api, health_port=0, jwt=pack_token)
    runner = echo_pack().start(config)
    try:
        runner.send_event("Go", None)
        action = wait_for_action(secured_api, "echo", "echo", token=admin)
    finally:
        runner.stop()
    # Then it registered, sent its event, took the action and reported
    assert action["result"]["event"] == "Echoed"


def test_a_pack_without_a_token_is_refused_with_the_reason(
    secured_api: str,
) -> None:
    pack = echo_pack()
    with pytest.raises(ApiError) as refused:
        pack.start(ClientConfig(api_url=secured_api, health_port=0))
    assert refused.value.status == 401


def test_the_cli_without_a_token_is_refused_in_one_line(
    secured_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flows", "list"], environ={"FLYTE_API": secured_api}) == 1
    assert "answered 401" in capsys.readouterr().err
