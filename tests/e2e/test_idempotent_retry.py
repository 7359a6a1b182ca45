"""A retry after an API process died, against two real ``python -m api`` processes.

The first API's Redis is a listener that never answers: the API stores the
event, then waits on Redis to queue it, and the moment its first Redis command
arrives the test SIGKILLs it. So it dies after storing and before answering,
with no hook in the product. The client retries with the same Idempotency-Key
on the second API (the SDK's retry), which answers 202 with the same event,
and a real worker on the real Redis turns it into exactly one action.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.sdk.client import ApiClient
from flyte.sdk.config import ClientConfig
from flyte.store import Stores
from tests.builders import ECHO_FLOW
from tests.conftest import drain
from tests.servers import with_database

pytestmark = pytest.mark.slow

KEY = "a-retry-after-a-crash"
BODY = {"event": "ReceivedMessage", "payload": {"text": "echo once", "channel": "C"}}
START_WITHIN = 30.0


class SilentRedis:
    """Accepts connections and reads, never answers; calls ``on_command`` once armed."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self.on_command: Callable[[], None] | None = None
        self._clients: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return  # closed
            self._clients.append(client)
            threading.Thread(target=self._read, args=(client,), daemon=True).start()

    def _read(self, client: socket.socket) -> None:
        with client:
            while client.recv(65536):
                if self.on_command is not None:
                    self.on_command()
                    self.on_command = None

    def close(self) -> None:
        """Stop listening and drop every connection."""
        self._server.close()
        for client in self._clients:
            client.close()


def start_api(env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "api"],
            env={**env, "FLYTE_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_WITHIN
    while True:
        try:
            if httpx.get(f"{url}/v1").status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"API on port {port} did not start: {log.read_text()}")
        time.sleep(0.1)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@pytest.fixture
def silent_redis() -> Iterator[SilentRedis]:
    redis = SilentRedis()
    yield redis
    redis.close()


@pytest.fixture
def apis(
    settings: Settings, silent_redis: SilentRedis, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    """(first API's process, its URL, the second API's URL) on the test database."""
    env = {k: v for k, v in os.environ.items() if k != "FLYTE_BROKER_URL"}
    env |= {
        "FLYTE_MGO_HOST": with_database(settings.mongo_uri, settings.mongo_database),
        "FLYTE_BIND": "127.0.0.1",
        "LOGLEVEL": "info",
    }
    silent = f"redis://127.0.0.1:{silent_redis.port}/0"
    first, first_url = start_api({**env, "REDIS_URL": silent}, tmp_path / "api1.log")
    try:
        second, second_url = start_api(
            {**env, "REDIS_URL": settings.redis_url}, tmp_path / "api2.log"
        )
    except BaseException:
        stop(first)
        raise
    try:
        yield first, first_url, second_url
    finally:
        stop(first)
        stop(second)


def test_a_retry_on_another_api_after_the_first_died_gets_the_event_once(
    apis: tuple[subprocess.Popen[bytes], str, str],
    silent_redis: SilentRedis,
    stores: Stores,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    first, first_url, second_url = apis
    for name in ("Slack", "Shell"):
        httpx.post(f"{second_url}/v1/packs", json={"name": name}).raise_for_status()
    httpx.post(f"{second_url}/v1/flows", json=ECHO_FLOW).raise_for_status()
    events = "/v1/packs/Slack/events"
    # Given the first API dies once it stored the event, as it starts to queue it
    silent_redis.on_command = lambda: os.killpg(first.pid, signal.SIGKILL)
    with pytest.raises(httpx.HTTPError):
        httpx.post(
            first_url + events, json=BODY, headers={"Idempotency-Key": f'"{KEY}"'}
        )
    assert first.wait(timeout=10) == -signal.SIGKILL
    [stored] = stores.db["event"].find()
    # When the client retries with the same key on the second API
    with ApiClient(ClientConfig(api_url=second_url), make_key=lambda: KEY) as api:
        answer = api.post_event(events, BODY)
    # Then it answers like the first would have, and the event runs once
    assert answer.status_code == 202
    assert answer.json()["id"] == stored["_id"]
    assert answer.headers["location"].endswith(f"/v1/events/{stored['_id']}")
    assert [doc["_id"] for doc in stores.db["event"].find()] == [stored["_id"]]
    drain(broker, worker)
    take = f"{second_url}/v1/packs/Shell/actions/take"
    taken = httpx.post(take)
    assert taken.status_code == 200
    assert taken.json()["input"] == "echo once"
    assert httpx.post(take).status_code == 204
