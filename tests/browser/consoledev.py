"""A real ``flyte dev`` holding what the console's pages show, for the browser tests.

The data is made the way packs make it, through the HTTP API: the quickstart
flow applied, the Chat and Shell packs registered, one chat message carried
through both steps (the packs' takes and results posted as the SDK posts them),
packs, labels, an event and a datastore item carrying hostile markup.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import ConsoleMessage
from playwright.sync_api import Dialog
from playwright.sync_api import Page

from flyte.devserver.embedded import free_port
from tests.e2e.devserver import STOP_WITHIN
from tests.e2e.devserver import start_dev

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART_FLOW = ROOT / "examples" / "flows" / "chat_uptime.yaml"
#: Markup that runs script if a page puts it into HTML unescaped.
IMG_PAYLOAD = "<img src=x onerror=alert(1)>"
SCRIPT_PAYLOAD = "</script><script>alert(1)</script>"
#: Where the tests save screenshots of the console, when set (docs/img).
SCREENSHOTS_ENV = "FLYTE_SCREENSHOTS"
#: Start-up of flyte dev on a busy machine (tests/e2e/test_dev.py checks its
#: real bound); these tests only need it up.
START_WITHIN = 60.0
#: How long a test waits for the workers to handle something.
WAIT_SECONDS = 15.0
CHAT = {
    "name": "Chat",
    "events": [{"name": "ReceivedMessage"}],
    "commands": [
        {"name": "SendMessage", "events": ["MessageSent", "SendMessageFailed"]}
    ],
}
SHELL = {"name": "Shell", "commands": [{"name": "Shell", "events": ["Output"]}]}


class BrowserTrouble:
    """Every console error, uncaught page error and dialog a page produced."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self._expected: set[tuple[str, int]] = set()

    def expect_refusal(self, path: str, status: int) -> None:
        """A test's own refused request (a bad token's 401) is not a problem."""
        self._expected.add((path, status))

    def on_console(self, message: ConsoleMessage) -> None:
        """Record console errors (CSP violations and failed loads are among them)."""
        if message.type != "error" or self._is_expected(message):
            return
        self.problems.append(f"console error: {message.text} at {message.location}")

    def _is_expected(self, message: ConsoleMessage) -> bool:
        url = message.location.get("url", "")
        return any(
            url.endswith(path) and f"status of {status} " in message.text
            for path, status in self._expected
        )

    def on_page_error(self, error: Exception) -> None:
        """Record an uncaught exception of the page's scripts."""
        self.problems.append(f"page error: {error}")

    def on_dialog(self, dialog: Dialog) -> None:
        """A dialog means a hostile payload ran: record it and dismiss it."""
        self.problems.append(f"dialog opened: {dialog.type} {dialog.message!r}")
        dialog.dismiss()


@dataclass(frozen=True)
class DevServer:
    """A running ``flyte dev``: its API base URL, its Redis and its output file."""

    base: str
    redis_url: str
    output: Path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One API call, with the test's token if it was given as ``token``."""
        token = kwargs.pop("token", None)
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(
            method, f"{self.base}{path}", headers=headers, timeout=10, **kwargs
        )


@contextmanager
def running_dev(
    data_dir: Path, env: dict[str, str] | None = None
) -> Iterator[DevServer]:
    """``flyte dev`` on free ports with ``env`` added to its environment."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        process = start_dev(data_dir, port)
    try:
        wait_for(
            "flyte dev healthy",
            lambda: process.poll() is None and healthy(base),
            START_WITHIN,
        )
        banner = (data_dir / "dev.out").read_text()
        redis_url = re.search(r"Redis\s+(redis://\S+)", banner)
        assert redis_url, banner
        yield DevServer(base, redis_url.group(1), data_dir / "dev.out")
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_WITHIN)


def healthy(base: str) -> bool:
    """Whether /health answers 200."""
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(what: str, check: Any, seconds: float = WAIT_SECONDS) -> Any:
    """Poll ``check()`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.1)
    return found


def register(dev: DevServer, pack: dict[str, Any], **auth: str) -> str:
    """Register ``pack`` and return its id."""
    response = dev.api("POST", "/v1/packs", json=pack, **auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def post_event(
    dev: DevServer, pack_id: str, name: str, payload: Any, **auth: str
) -> str:
    """Post an event for ``pack_id`` and return its id."""
    path = f"/v1/packs/{pack_id}/events"
    response = dev.api("POST", path, json={"event": name, "payload": payload}, **auth)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def take_and_answer(
    dev: DevServer, pack_id: str, name: str, payload: Any, **auth: str
) -> dict[str, Any]:
    """Wait for an action of ``pack_id``, post ``name`` as its result, return it."""

    def take() -> httpx.Response | None:
        path = f"/v1/packs/{pack_id}/actions/take"
        response = dev.api("POST", path, **auth)
        return response if response.status_code == 200 else None

    action: dict[str, Any] = wait_for(f"an action for {pack_id}", take).json()
    result = next(
        link["href"] for link in action["links"] if link["rel"].endswith("actionResult")
    )
    answered = httpx.post(
        result,
        json={"event": name, "payload": payload},
        headers={"Authorization": f"Bearer {auth['token']}"} if auth else {},
        timeout=10,
    )
    assert answered.status_code == 202, answered.text
    return action


def event_status(dev: DevServer, event_id: str, **auth: str) -> str:
    """The stored status of an event."""
    return str(dev.api("GET", f"/v1/events/{event_id}", **auth).json()["status"])


def run_quickstart(dev: DevServer, **auth: str) -> tuple[str, str]:
    """The quickstart's chat message carried through both steps.

    Returns the execution's correlation id and the chat message's event id.
    """
    flow = dev.api(
        "POST",
        "/v1/flows",
        content=QUICKSTART_FLOW.read_bytes(),
        headers={"Content-Type": "application/x-yaml"},
        **auth,
    )
    assert flow.status_code in (200, 201), flow.text
    chat, shell = register(dev, CHAT, **auth), register(dev, SHELL, **auth)
    message = {"channelId": "C1", "message": "flyte uptime", "user": {"name": "ana"}}
    event = post_event(dev, chat, "ReceivedMessage", message, **auth)
    output = {"stdout": " 09:31:08 up 3 days", "stderr": "", "exit_code": 0}
    take_and_answer(dev, shell, "Output", output, **auth)
    sent = {"message": "Hey ana! 09:31:08 up 3 days", "channelId": "C1"}
    take_and_answer(dev, chat, "MessageSent", sent, **auth)

    def both_steps_done() -> str | None:
        listed = dev.api("GET", "/v1/audit/flows", **auth).json()
        for execution in listed["flows"]:
            actions = execution["actions"].values()
            if {a["state"]["value"] for a in actions} == {"SUCCESS"}:
                if len(actions) == 2:
                    return str(execution["correlationId"])
        return None

    return str(wait_for("the quickstart run", both_steps_done)), event


def seed_hostile(dev: DevServer) -> dict[str, str]:
    """Hostile markup in pack names, labels, a flow, an event and a datastore item."""
    img_pack = register(
        dev,
        {
            "name": IMG_PAYLOAD,
            "labels": {"note": IMG_PAYLOAD},
            "events": [{"name": "Hostile"}],
        },
    )
    # Its id holds a "/": its links and its console page escape it as %2F.
    script_pack = register(
        dev, {"name": SCRIPT_PAYLOAD, "labels": {"note": SCRIPT_PAYLOAD}}
    )
    hostile_flow = {
        "name": "hostile",
        "description": f"{IMG_PAYLOAD} {SCRIPT_PAYLOAD}",
        "steps": [
            {
                "id": "echo",
                "event": {"packName": IMG_PAYLOAD, "name": "Hostile"},
                "command": {"packName": "Shell", "name": "Shell", "input": "true"},
            }
        ],
    }
    flow = dev.api("POST", "/v1/flows", json=hostile_flow)
    assert flow.status_code in (200, 201), flow.text
    event = post_event(
        dev, img_pack, "Hostile", {"img": IMG_PAYLOAD, "script": SCRIPT_PAYLOAD}
    )
    wait_for("the hostile event handled", lambda: event_status(dev, event) != "PENDING")
    stored = dev.api(
        "PUT",
        "/v1/datastore/hostile",
        files={"value": ("v.txt", f"{IMG_PAYLOAD}\n{SCRIPT_PAYLOAD}", "text/plain")},
        data={"description": IMG_PAYLOAD},
    )
    assert stored.status_code in (201, 204), stored.text
    return {"img_pack": img_pack, "script_pack": script_pack, "event": event}


def screenshot(page: Page, name: str) -> None:
    """Save the page as ``console-{name}.png`` under $FLYTE_SCREENSHOTS, if set."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        # A viewport as tall as the page, rather than a full-page capture: the
        # fixed sidebar then reaches the bottom, as it does on screen.
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": 1280, "height": max(900, int(height))})
        page.screenshot(path=str(Path(folder) / f"console-{name}.png"))


def quoted(segment: str) -> str:
    """``segment`` escaped for one URL path segment."""
    return quote(segment, safe="")
