"""A tiny HTTP proxy in front of a real API that fails chosen requests.

Clients under test (the SDK, the CLI) talk to the proxy. Each request takes the
next fault from a list: ``"503"`` answers 503 without forwarding (an overloaded
or restarting API), ``"close"`` closes the connection without forwarding (the
API is down), ``"drop"`` forwards the request and closes the connection
without answering (the API stored the event and died before answering), and
``None`` relays the API's answer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import httpx

#: Hop-by-hop headers, and those httpx sets itself. Host is relayed, so the
#: API's links point at the proxy and clients keep going through it.
_NOT_RELAYED = {"content-length", "connection", "transfer-encoding"}


@dataclass
class Faults:
    """The faults still to inject, in order, and the requests seen."""

    upstream: str
    planned: list[str | None] = field(default_factory=list)
    seen: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self, method: str, path: str, key: str | None) -> str | None:
        """Record a request and take its fault (only POSTs take one)."""
        with self.lock:
            self.seen.append((method, path, key))
            if method != "POST" or not self.planned:
                return None
            return self.planned.pop(0)

    def keys(self) -> list[str | None]:
        """The Idempotency-Key of every POST seen, in order."""
        return [key for method, _, key in self.seen if method == "POST"]


def _handler(faults: Faults) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the test's own assertions tell what happened."""

        def do_GET(self) -> None:
            self._relay()

        def do_POST(self) -> None:
            self._relay()

        def _relay(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            key = self.headers.get("Idempotency-Key")
            fault = faults.next_fault(self.command, self.path, key)
            if fault == "close":
                self.close_connection = True
                return
            if fault == "503":
                self._answer(503, b'{"status": 503, "title": "injected"}', {})
                return
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in _NOT_RELAYED
            }
            answer = httpx.request(
                self.command, faults.upstream + self.path, headers=headers, content=body
            )
            if fault == "drop":
                self.close_connection = True
                return
            relayed = {
                k: v
                for k, v in answer.headers.items()
                if k.lower() not in _NOT_RELAYED | {"content-encoding"}
            }
            self._answer(answer.status_code, answer.content, relayed)

        def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def faulty_proxy(upstream: str) -> Iterator[tuple[str, Faults]]:
    """Serve a proxy to ``upstream`` on a free port; yields its URL and faults."""
    faults = Faults(upstream)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(faults))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", faults
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
