"""A stand-in for the Go Flyte API, speaking its v1 contract (docs/upstream.md).

It is a real HTTP peer on a free port, used to show that the SDK works against
upstream: absolute hrefs under another path prefix, 201 registration answered as
text/plain, empty 202 bodies, and ``null`` inputs. It records every request.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

#: Upstream's link paths live under this prefix here, so nothing can be guessed.
PREFIX = "/flyte-api"


@dataclass
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class Upstream:
    """The stand-in's state: what to answer and what it was asked."""

    base: str = ""
    failing_registrations: int = 0
    garbled_takes: int = 0
    #: While set, takes answer 503, as an API whose database is down does.
    unavailable: bool = False
    health_status: int = 200
    actions: deque[dict[str, Any]] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def queue_action(self, action_id: str, command: str, value: Any) -> None:
        """Hand out this action on the next take."""
        self.actions.append({"id": action_id, "command": command, "input": value})

    def posted(self, path_end: str) -> list[Recorded]:
        """The POSTs whose path ends with ``path_end``."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r.method == "POST" and r.path.endswith(path_end)
            ]


def _links(state: Upstream) -> list[dict[str, str]]:
    base, doc = state.base + PREFIX, state.base + "/swagger"
    return [
        {"href": f"{base}/v1", "rel": "self"},
        {"href": f"{base}/health", "rel": f"{doc}#!/info/health"},
        {"href": f"{base}/v1/packs", "rel": f"{doc}#!/pack/listPacks"},
    ]


def _pack_answer(state: Upstream, body: dict[str, Any]) -> dict[str, Any]:
    base, doc = state.base + PREFIX, state.base + "/swagger"
    pack_id = body["name"]
    return {
        "id": pack_id,
        "name": pack_id,
        "lastSeen": "2026-11-24T06:00:00Z",
        "status": "live",
        "links": [
            {"href": f"{base}/v1/packs/{pack_id}", "rel": "self"},
            {"href": f"{base}/v1/packs", "rel": "up"},
            {
                "href": f"{base}/v1/packs/{pack_id}/actions/take",
                "rel": f"{doc}#!/action/takeAction",
            },
            {"href": f"{base}/v1/packs/{pack_id}/events", "rel": f"{doc}#/event"},
        ],
    }


class UpstreamHandler(BaseHTTPRequestHandler):
    """Answers as upstream's handlers do; ``state`` is set per server."""

    state: Upstream

    def _record(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        with self.state.lock:
            self.state.requests.append(
                Recorded(self.command, self.path, dict(self.headers), body)
            )
        return body

    def _answer(self, status: int, body: Any = None, kind: str = "json") -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        # Upstream answers registration as text/plain (its quirk #12).
        ctype = "text/plain; charset=utf-8" if kind == "text" else "application/json"
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # noqa: N802
        self._record()
        if self.path == f"{PREFIX}/v1":
            self._answer(200, {"links": _links(self.state)})
        elif self.path == f"{PREFIX}/health":
            self._answer(self.state.health_status)
        else:
            self._answer(404)

    def do_POST(self) -> None:  # noqa: N802
        body = self._record()
        if self.path == f"{PREFIX}/v1/packs":
            self._register(body)
        elif self.path.endswith("/actions/take"):
            self._take()
        elif self.path.endswith("/result") or self.path.endswith("/events"):
            self._answer(202)
        else:
            self._answer(404)

    def _register(self, body: dict[str, Any]) -> None:
        with self.state.lock:
            failing = self.state.failing_registrations > 0
            self.state.failing_registrations -= failing
        if failing:
            self._answer(500)
        else:
            self._answer(201, _pack_answer(self.state, body), kind="text")

    def _take(self) -> None:
        if self.state.unavailable:
            self._answer(503, {"message": "MongoDB is not available"})
            return
        with self.state.lock:
            garbled = self.state.garbled_takes > 0
            self.state.garbled_takes -= garbled
            queued = self.state.actions and not garbled
            action = self.state.actions.popleft() if queued else None
        if garbled:
            self._garble()
            return
        if action is None:
            self._answer(204)
            return
        pack_url = self.state.base + self.path.removesuffix("/actions/take")
        result = f"{pack_url}/actions/{action['id']}/result"
        rel = f"{self.state.base}/swagger#/actionResult"
        body = {"command": action["command"], "input": action["input"]}
        self._answer(200, {**body, "links": [{"href": result, "rel": rel}]})

    def _garble(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "8")
        self.end_headers()
        self.wfile.write(b"not json")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class UpstreamServer:
    """Serves an ``Upstream`` on 127.0.0.1 in a background thread."""

    def __init__(self, state: Upstream | None = None) -> None:
        self.state = state or Upstream()
        handler = type("Handler", (UpstreamHandler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.state.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.root = self.state.base + PREFIX
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
