"""The pack health endpoint: the Go client's JSON shape and codes, real checks."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from flyte.devserver.embedded import free_port
from flyte.sdk import ClientConfig
from flyte.sdk import Event
from flyte.sdk import Health
from flyte.sdk import Pack
from flyte.sdk.health import HealthServer
from tests.flyte.sdk.upstream import UpstreamServer


@pytest.fixture
def upstream() -> Iterator[UpstreamServer]:
    server = UpstreamServer()
    yield server
    server.close()


def get(server: HealthServer) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}/", timeout=10)


def test_all_healthy_answers_200_in_the_go_shape() -> None:
    server = HealthServer({"DefaultCheck": lambda: Health(True, "Pack is running.")}, 0)
    server.start()
    try:
        response = get(server)
    finally:
        server.stop()
    assert response.status_code == 200
    assert response.json() == {
        "DefaultCheck": {"healthy": True, "status": "Pack is running."}
    }


def test_one_unhealthy_or_failing_check_answers_500() -> None:
    def broken() -> Health:
        raise RuntimeError("disk gone")

    checks = {"Ok": lambda: Health(True, "fine"), "Broken": broken}
    server = HealthServer(checks, 0)
    server.start()
    try:
        response = get(server)
    finally:
        server.stop()
    assert response.status_code == 500
    assert response.json()["Ok"] == {"healthy": True, "status": "fine"}
    assert response.json()["Broken"] == {
        "healthy": False,
        "status": "check failed: RuntimeError: disk gone",
    }


def pack_with_check(healthy: bool) -> Pack:
    pack = Pack("Checked", polling_interval=0.5)

    @pack.command("Noop", events=["Done"])
    def noop(value: object) -> Event:
        return Event("Done")

    @pack.health_check("Upstream")
    def upstream_check() -> Health:
        return Health(healthy, "reachable" if healthy else "unreachable")

    return pack


def test_a_running_pack_reports_api_registration_polling_and_its_own_checks(
    upstream: UpstreamServer,
) -> None:
    port = free_port()
    runner = pack_with_check(True).start(
        ClientConfig(api_url=upstream.root, health_port=port)
    )
    try:
        runner_health = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
    finally:
        runner.stop()
    body = runner_health.json()
    assert runner_health.status_code == 200, body
    assert set(body) == {"FlyteApi", "Registration", "ActionPolling", "Upstream"}
    assert all(check["healthy"] for check in body.values())


def health_of_running(pack: Pack, upstream: UpstreamServer) -> httpx.Response:
    """What the health endpoint of ``pack``, running against ``upstream``, says."""
    config = ClientConfig(api_url=upstream.root, health_port=free_port())
    runner = pack.start(config)
    try:
        assert runner.health_server is not None
        return get(runner.health_server)
    finally:
        runner.stop()


def test_an_unhealthy_api_makes_the_pack_unhealthy_unlike_upstream(
    upstream: UpstreamServer,
) -> None:
    upstream.state.health_status = 500
    response = health_of_running(pack_with_check(True), upstream)
    assert response.status_code == 500
    assert response.json()["FlyteApi"]["healthy"] is False
    assert "answered 500" in response.json()["FlyteApi"]["status"]


def test_a_packs_own_failing_check_makes_it_unhealthy(upstream: UpstreamServer) -> None:
    response = health_of_running(pack_with_check(False), upstream)
    assert response.status_code == 500
    assert response.json()["Upstream"] == {"healthy": False, "status": "unreachable"}


def test_a_taken_health_port_does_not_stop_the_pack(upstream: UpstreamServer) -> None:
    first = HealthServer({}, 0)
    try:
        runner = pack_with_check(True).start(
            ClientConfig(api_url=upstream.root, health_port=first.port)
        )
        assert runner.registered and runner.health_server is None
        runner.stop()
    finally:
        first.stop()
