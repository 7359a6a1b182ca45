"""A pack's health endpoint, in the Go flyte-client's shape and status codes.

``GET /`` answers ``{"<check>": {"healthy": bool, "status": any}}``: 200 when
every check is healthy, else 500. A check that raises is unhealthy, with why.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    """One check's verdict: healthy or not, and a status for humans."""

    healthy: bool
    status: Any


#: A health check is called on every request to the endpoint.
HealthCheck = Callable[[], Health]


def run_checks(checks: Mapping[str, HealthCheck]) -> tuple[bool, dict[str, Any]]:
    """Run every check; the overall verdict and the Go-shaped body."""
    body: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            health = check()
        except Exception as ex:  # noqa: BLE001 - a broken check is an unhealthy one
            health = Health(False, f"check failed: {type(ex).__name__}: {ex}")
        body[name] = {"healthy": health.healthy, "status": health.status}
    return all(item["healthy"] for item in body.values()), body


class HealthServer:
    """Serves the checks on ``port`` (0 picks a free one) in a background thread."""

    def __init__(
        self, checks: Mapping[str, HealthCheck], port: int, host: str = ""
    ) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler_for(checks))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="flyte-health", daemon=True
        )

    @property
    def port(self) -> int:
        """The port actually bound."""
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Start answering."""
        self._thread.start()

    def stop(self) -> None:
        """Stop answering and free the port."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


def _handler_for(checks: Mapping[str, HealthCheck]) -> type[BaseHTTPRequestHandler]:
    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server naming
            healthy, body = run_checks(checks)
            payload = json.dumps(body).encode()
            self.send_response(200 if healthy else 500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            logger.debug("health: " + format, *args)

    return HealthHandler
