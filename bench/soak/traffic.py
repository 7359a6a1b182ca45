"""The soak's clients: senders of events (with Idempotency-Key) and a runner pack.

Senders retry a POST on a connection error or a 5xx, on either API process,
reusing the event's key, as the SDK does. The runner takes actions and posts
their results, but now and then "crashes" with an action in hand (posts
nothing), so that its lease must expire and the action be handed out again.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from urllib.parse import urlsplit

SOURCE_PACK = "SoakSource"
RUNNER_PACK = "SoakRunner"
#: Two steps: the trigger runs Run; Run's result (Done) continues with Finish.
FLOW: dict[str, Any] = {
    "name": "soak",
    "steps": [
        {
            "id": "first",
            "event": {"packName": SOURCE_PACK, "name": "Tick"},
            "context": {"Seq": "{{ Event.Payload.seq }}"},
            "command": {
                "packName": RUNNER_PACK,
                "name": "Run",
                "input": {"seq": "{{ Event.Payload.seq }}"},
            },
        },
        {
            "id": "second",
            "dependsOn": ["first"],
            "event": {"packName": RUNNER_PACK, "name": "Done"},
            "command": {
                "packName": RUNNER_PACK,
                "name": "Finish",
                "input": {"seq": "{{ Context.Seq }}"},
            },
        },
    ],
}
RESULT_OF = {"Run": "Done", "Finish": "Finished"}
#: Statuses a client retries with the same key (connection errors too).
RETRIED = {409, 500, 502, 503, 504}
#: A sender gives an event up after retrying this long.
GIVE_UP_SECONDS = 90.0


class Api:
    """Keep-alive connections to the API processes; a request may go to either."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = ports
        self._conns: dict[int, http.client.HTTPConnection] = {}

    def request(
        self, port: int, method: str, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int | None, Any]:
        """(status, JSON body); status None on a connection error or timeout."""
        conn = self._conns.get(port) or http.client.HTTPConnection(
            "127.0.0.1", port, timeout=10
        )
        self._conns[port] = conn
        try:
            conn.request(method, path, json.dumps(body), headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            del self._conns[port]
            return None, None
        try:
            return resp.status, json.loads(data) if data else None
        except ValueError:
            return resp.status, None

    def any_port(self) -> int:
        """One of the API ports, at random."""
        return random.choice(self._ports)

    def other_port(self, port: int) -> int:
        """Another API port than ``port`` (for a retry)."""
        others = [p for p in self._ports if p != port]
        return random.choice(others or self._ports)


@dataclass
class Ledger:
    """What the clients saw, kept under one lock (threads write to it)."""

    accepted: dict[str, set[str]] = field(default_factory=dict)
    given_up: list[str] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    retried: int = 0
    #: Seconds each accepted POST took (the attempt that got the 202).
    latencies: list[float] = field(default_factory=list)
    taken: int = 0
    crashed: int = 0
    results: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str, status: int | None) -> None:
        """Count one answer of kind ``what``."""
        with self.lock:
            self.statuses[f"{what} {status or 'conn-error'}"] += 1


def setup(ports: list[int]) -> None:
    """Register the two packs and apply the flow."""
    api = Api(ports)
    json_headers = {"Content-Type": "application/json"}
    packs = [
        {"name": SOURCE_PACK, "events": [{"name": "Tick"}]},
        {
            "name": RUNNER_PACK,
            "events": [{"name": "Done"}, {"name": "Finished"}],
            "commands": [
                {"name": "Run", "events": ["Done"]},
                {"name": "Finish", "events": ["Finished"]},
            ],
        },
    ]
    for pack in packs:
        status, _ = api.request(ports[0], "POST", "/v1/packs", pack, json_headers)
        assert status == 201, f"registering {pack['name']}: {status}"
    status, body = api.request(ports[0], "POST", "/v1/flows", FLOW, json_headers)
    assert status == 201, f"applying the flow: {status} {body}"


def send_events(
    ports: list[int],
    ledger: Ledger,
    rate: float,
    until: float,
    next_seq: Callable[[], int],
) -> None:
    """One sender thread: events at ``rate`` per second until ``until``."""
    api = Api(ports)
    started = time.monotonic()
    sent = 0
    while time.monotonic() < until:
        time.sleep(max(0.0, started + sent / rate - time.monotonic()))
        send_one(api, ledger, next_seq())
        sent += 1


def send_one(api: Api, ledger: Ledger, seq: int) -> None:
    """POST one event, retrying with its key until a 202 or giving up."""
    key = uuid.uuid4().hex
    body = {"event": "Tick", "payload": {"seq": seq, "key": key}}
    headers = {"Content-Type": "application/json", "Idempotency-Key": f'"{key}"'}
    port = api.any_port()
    deadline = time.monotonic() + GIVE_UP_SECONDS
    delay = 0.1
    while True:
        path = f"/v1/packs/{SOURCE_PACK}/events"
        sent = time.perf_counter()
        status, answer = api.request(port, "POST", path, body, headers)
        ledger.count("event", status)
        if status == 202:
            with ledger.lock:
                ledger.accepted.setdefault(key, set()).add(answer["id"])
                ledger.latencies.append(time.perf_counter() - sent)
            return
        if (status is not None and status not in RETRIED) or (
            time.monotonic() > deadline
        ):
            with ledger.lock:
                ledger.given_up.append(key)
            return
        with ledger.lock:
            ledger.retried += 1
        time.sleep(delay * random.uniform(0.5, 1.5))
        delay = min(delay * 2, 2.0)
        port = api.other_port(port)


def run_actions(
    ports: list[int], ledger: Ledger, crash_rate: float, stop: threading.Event
) -> None:
    """One runner thread: take, then post the result (or crash), until ``stop``."""
    api = Api(ports)
    take = f"/v1/packs/{RUNNER_PACK}/actions/take"
    while not stop.is_set():
        status, action = api.request(api.any_port(), "POST", take, None, {})
        if status != 200:
            ledger.count("take", status)
            time.sleep(0.05 if status == 204 else 0.3)
            continue
        with ledger.lock:
            ledger.taken += 1
        if random.random() < crash_rate:
            with ledger.lock:
                ledger.crashed += 1
            continue  # a consumer that died with the action in hand
        post_result(api, ledger, action, stop)


def post_result(
    api: Api, ledger: Ledger, action: dict[str, Any], stop: threading.Event
) -> None:
    """POST the action's result, retrying connection errors and 5xx."""
    href = next(
        link["href"] for link in action["links"] if link["rel"].endswith("actionResult")
    )
    path = urlsplit(href).path
    body = {"event": RESULT_OF[action["command"]], "payload": action["input"]}
    port = api.any_port()
    for _ in range(20):
        status, _ = api.request(
            port, "POST", path, body, {"Content-Type": "application/json"}
        )
        ledger.count("result", status)
        if status == 202:
            with ledger.lock:
                ledger.results += 1
            return
        if (status is not None and status < 500) or stop.is_set():
            return  # 409: finished already, or handed out again after its lease
        time.sleep(0.2)
        port = api.other_port(port)
