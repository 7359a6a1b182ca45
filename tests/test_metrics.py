"""Prometheus metrics: counted where things happen, served at /metrics, added
up across the processes that share a multi-process directory."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import dramatiq
import httpx
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker
from falcon import testing
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from api.app import Dependencies
from api.app import create_app
from flyte.auth import load_auth
from flyte.config import DEFAULT_METRICS_PORT
from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.errors import ConfigError
from flyte.errors import PackNotFound
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.metrics import Metrics
from flyte.metrics import prepare_multiprocess_dir
from flyte.metrics import reason_of
from flyte.store import Stores
from tests.builders import ECHO_FLOW
from tests.builders import make_pack_body
from tests.deadletters import DeadLetterLab
from tests.deadletters import wait_until
from tests.oidc import Issuer
from tests.oidc import secured_settings
from workers.inspection import build_inspector
from workers.metrics import add_message_metrics
from workers.queue import DramatiqQueue

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when it was never counted."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def registry_value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


# --- settings --------------------------------------------------------------------


def test_settings_read_the_multiprocess_dir_and_the_metrics_port() -> None:
    settings = Settings.from_env(
        {
            "PROMETHEUS_MULTIPROC_DIR": " /run/flyte-metrics ",
            "FLYTE_METRICS_PORT": "9300",
        }
    )
    assert settings.metrics_multiproc_dir == "/run/flyte-metrics"
    assert settings.metrics_port == 9300
    defaults = Settings.from_env({})
    assert defaults.metrics_multiproc_dir is None
    assert defaults.metrics_port == DEFAULT_METRICS_PORT


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_a_metrics_port_out_of_range_stops_start_up(port: str) -> None:
    with pytest.raises(ConfigError, match="FLYTE_METRICS_PORT"):
        Settings.from_env({"FLYTE_METRICS_PORT": port})


def test_a_fresh_multiprocess_dir_forgets_the_last_session(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old")
    prepare_multiprocess_dir(directory)
    assert (directory / "counter_123.db").exists()  # kept unless asked
    prepare_multiprocess_dir(directory, fresh=True)
    assert list(directory.iterdir()) == []


# --- counting --------------------------------------------------------------------


def test_a_refusal_is_named_after_its_error() -> None:
    assert reason_of(PackNotFound("x")) == "pack_not_found"
    assert reason_of(RuntimeError("bug")) == "error"


def test_counting_an_event_tells_accepted_from_refused() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    with metrics.counting_event("event"):
        pass
    with pytest.raises(PackNotFound), metrics.counting_event("event"):
        raise PackNotFound("nope")
    assert registry_value(registry, "flyte_events_accepted_total", kind="event") == 1
    refused = {"kind": "event", "reason": "pack_not_found"}
    assert registry_value(registry, "flyte_events_refused_total", **refused) == 1


# --- /metrics --------------------------------------------------------------------


def test_metrics_answers_in_prometheus_text_format(
    client: testing.TestClient,
) -> None:
    client.simulate_get("/v1/packs")
    result = client.simulate_get("/metrics")
    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = parse(result.text)
    latency = {"route": "/v1/packs", "method": "GET", "status": "200"}
    assert value(samples, "flyte_http_request_duration_seconds_count", **latency) >= 1


def test_queue_depths_are_read_from_the_broker_at_scrape_time(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    broker: RedisBroker,
    redis_client: redis.Redis,
) -> None:
    # Given an app reading the test broker's queues, and two events queued
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(redis_client)}
    deps = Dependencies(
        stores=stores,
        queue=queue,
        health_checks=checks,
        queues=build_inspector(broker),
    )
    client = testing.TestClient(create_app(settings, deps))
    queue.send_event("e1")
    queue.send_event("e2")
    # When Prometheus scrapes
    samples = parse(client.simulate_get("/metrics").text)
    # Then the ready messages are counted, per queue and state
    assert value(samples, "flyte_queue_inspection_up") == 1
    assert value(samples, "flyte_queue_messages", queue="events", state="ready") == 2
    assert value(samples, "flyte_queue_messages", queue="events", state="dead") == 0


def test_counters_add_up_across_processes_sharing_a_directory(
    tmp_path: Path, settings: Settings, stores: Stores, queue: DramatiqQueue
) -> None:
    # Given two processes counting into one directory (as web and worker do)
    directory = prepare_multiprocess_dir(tmp_path / "metrics")
    for count in (3, 4):
        _count_in_another_process(directory, count)
    # When a web process in multi-process mode is scraped
    multi = dataclasses.replace(settings, metrics_multiproc_dir=str(directory))
    app = create_app(multi, Dependencies(stores, queue, health_checks={}))
    text = testing.TestClient(app).simulate_get("/metrics").text
    # Then it shows their sum, and the histogram's too
    samples = parse(text)
    assert value(samples, "flyte_events_accepted_total", kind="event") == 7
    assert value(samples, "flyte_event_to_takeable_seconds_count") == 2
    assert value(samples, "flyte_steps_total", outcome="fired") == 7


def _count_in_another_process(directory: Path, count: int) -> None:
    script = f"""
from flyte.metrics import Metrics
metrics = Metrics(registry=None)
for _ in range({count}):
    metrics.event_accepted("event")
    metrics.step_evaluated("fired")
metrics.event_to_takeable.observe(0.2)
"""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)


# --- the policy --------------------------------------------------------------------


@pytest.fixture
def monitored(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    oidc_issuer: Issuer,
    tmp_path: Path,
) -> testing.TestClient:
    """An app with auth on whose policy lets the ``monitor`` group scrape."""
    auth_settings = secured_settings(
        settings,
        oidc_issuer,
        tmp_path,
        "- path: /metrics\n  methods: [GET]\n  claims: {groups: [monitor]}\n",
    )
    deps = Dependencies(
        stores=stores, queue=queue, health_checks={}, auth=load_auth(auth_settings)
    )
    return testing.TestClient(create_app(auth_settings, deps))


def test_metrics_is_refused_without_a_token_when_auth_is_on(
    monitored: testing.TestClient, oidc_issuer: Issuer
) -> None:
    assert monitored.simulate_get("/metrics").status_code == 401
    outsider = oidc_issuer.token({"groups": ["someone"]})
    result = monitored.simulate_get(
        "/metrics", headers={"Authorization": f"Bearer {outsider}"}
    )
    assert result.status_code == 401


def test_metrics_is_served_to_whom_the_policy_allows(
    monitored: testing.TestClient, oidc_issuer: Issuer
) -> None:
    token = oidc_issuer.token({"groups": ["monitor"]})
    result = monitored.simulate_get(
        "/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    assert result.status_code == 200
    assert "flyte_http_request_duration_seconds" in result.text


# --- events flowing through a real API and worker ----------------------------------


def test_metrics_move_when_events_flow(live_api: str) -> None:
    with httpx.Client(base_url=live_api, timeout=10) as api:
        # Given the echo flow, its two packs, and the metrics as they were
        assert api.post("/v1/packs", json=make_pack_body()).status_code == 201
        shell = make_pack_body(name="Shell", commands=[{"name": "Shell"}], events=[])
        assert api.post("/v1/packs", json=shell).status_code == 201
        assert api.post("/v1/flows", json=ECHO_FLOW).status_code == 201
        before = parse(api.get("/metrics").text)
        # When Slack posts a message that fires the flow, a stranger posts to an
        # unknown pack, and Shell takes twice
        message = {"event": "ReceivedMessage", "payload": {"text": "echo hi"}}
        assert api.post("/v1/packs/Slack/events", json=message).status_code == 202
        assert api.post("/v1/packs/Nope/events", json=message).status_code == 404
        taken = _take_when_ready(lambda: api.post("/v1/packs/Shell/actions/take"))
        assert taken.status_code == 200
        assert api.post("/v1/packs/Shell/actions/take").status_code == 204
        after = parse(api.get("/metrics").text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Then every counter moved by what happened
    assert moved("flyte_events_accepted_total", kind="event") == 1
    refused = {"kind": "event", "reason": "pack_not_found"}
    assert moved("flyte_events_refused_total", **refused) == 1
    assert moved("flyte_steps_total", outcome="fired") == 1
    created = {"from_state": "none", "to_state": "NEW"}
    assert moved("flyte_action_transitions_total", **created) == 1
    taken_labels = {"from_state": "NEW", "to_state": "PENDING"}
    assert moved("flyte_action_transitions_total", **taken_labels) == 1
    assert moved("flyte_takes_total", result="action") == 1
    assert moved("flyte_takes_total", result="empty") >= 1
    assert moved("flyte_event_to_takeable_seconds_count") == 1
    posted = {"route": "/v1/packs/{pack_id}/events", "method": "POST", "status": "202"}
    assert moved("flyte_http_request_duration_seconds_count", **posted) == 1


def _take_when_ready(take: Callable[[], httpx.Response]) -> httpx.Response:
    """Take until the worker has created the action (204 until then)."""
    deadline = time.monotonic() + 10
    while True:
        response = take()
        if response.status_code != 204 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


# --- worker message outcomes -------------------------------------------------------


def test_worker_messages_are_counted_by_actor_and_outcome(
    dead_letters: DeadLetterLab,
) -> None:
    # Given the lab's broker counting outcomes, and an actor that retries once
    registry = CollectorRegistry()
    add_message_metrics(dead_letters.broker, Metrics(registry))
    attempts: list[str] = []

    @dramatiq.actor(
        actor_name="flaky",
        queue_name="jobs",
        broker=dead_letters.broker,
        max_retries=1,
        min_backoff=10,
    )
    def flaky(name: str) -> None:
        attempts.append(name)
        raise RuntimeError("always")

    def count(actor: str, outcome: str) -> float:
        labels = {"actor": actor, "outcome": outcome}
        return registry_value(registry, "flyte_worker_messages_total", **labels)

    with dead_letters.running():
        # When one message fails for good, one succeeds, one retries and dies
        dead_letters.kill("a")
        dead_letters.failing.clear()
        dead_letters.work.send("b")
        flaky.send("c")
        wait_until(lambda: count("work", "success") == 1 and count("flaky", "dead"))
    # Then each outcome is counted under its actor
    assert count("work", "dead") == 1
    assert count("work", "success") == 1
    assert count("flaky", "retry") == 1
    assert count("flaky", "dead") == 1
    assert attempts == ["c", "c"]


def test_a_worker_only_host_serves_its_processes_metrics(tmp_path: Path) -> None:
    # Given a worker process's counts in the host's directory
    directory = prepare_multiprocess_dir(tmp_path / "metrics")
    _count_in_another_process(directory, 2)
    # When python -m workers.metrics serves that directory
    port = free_port()
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "FLYTE_METRICS_PORT": str(port),
        "FLYTE_BIND": "127.0.0.1",
    }
    server = subprocess.Popen([sys.executable, "-m", "workers.metrics"], env=env)
    try:
        text = _get_when_up(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.terminate()
        server.wait(timeout=10)
    # Then Prometheus reads them there
    assert value(parse(text), "flyte_steps_total", outcome="fired") == 2


def _get_when_up(url: str) -> str:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(url, timeout=2).text
        except httpx.TransportError:
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.1)


def test_a_replay_is_counted_as_an_accepted_event(client: testing.TestClient) -> None:
    # Given a stored event
    assert client.simulate_post("/v1/packs", json=make_pack_body()).status_code == 201
    posted = client.simulate_post("/v1/packs/Slack/events", json={"event": "X"})
    event_id = posted.headers["Location"].rsplit("/", 1)[-1]
    before = parse(client.simulate_get("/metrics").text)
    # When an operator replays it, and one that is not stored
    assert client.simulate_post(f"/v1/events/{event_id}/replay").status_code == 202
    assert client.simulate_post("/v1/events/nope/replay").status_code == 404
    after = parse(client.simulate_get("/metrics").text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Then one replay was accepted and one refused
    assert moved("flyte_events_accepted_total", kind="replay") == 1
    missing = {"kind": "replay", "reason": "event_not_found"}
    assert moved("flyte_events_refused_total", **missing) == 1
