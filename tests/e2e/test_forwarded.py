"""Behind a proxy: the real ``python -m api`` builds links from X-Forwarded-*.

Waitress (HTTP) and cheroot (HTTPS) both run here, as the web process runs them,
because ``falcon.testing`` never passes a request through either server.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from flyte.config import Settings
from flyte.devserver.embedded import free_port
from tests.certs import self_signed
from tests.servers import with_database

#: Generous: the suite runs these next to other server tests on a busy machine.
UP_WITHIN = 60.0
PROXIED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "flyte.example.com"}

pytestmark = pytest.mark.slow


@dataclass
class Web:
    """A running ``python -m api``: its own base URL and a client TLS context."""

    base: str
    context: ssl.SSLContext | None

    def links(self, path: str, headers: dict[str, str]) -> list[str]:
        """The hrefs of the links in the JSON at ``path``."""
        request = urllib.request.Request(self.base + path, headers=headers)
        with urllib.request.urlopen(request, context=self.context, timeout=5) as resp:
            body: dict[str, Any] = json.load(resp)
        return [link["href"] for link in body["links"]]


@pytest.fixture
def start_web(
    settings: Settings, db: Database[dict[str, Any]], tmp_path: Path
) -> Iterator[Any]:
    """Starts ``python -m api`` with extra env (and TLS on request); stops it after."""
    started: list[subprocess.Popen[bytes]] = []

    def start(tls: bool = False, **extra: str) -> Web:
        port = free_port()
        env = {
            **{k: v for k, v in os.environ.items() if k != "FLYTE_TRUSTED_PROXIES"},
            "FLYTE_MGO_HOST": with_database(settings.mongo_uri, db.name),
            "REDIS_URL": settings.redis_url,
            "FLYTE_BIND": "127.0.0.1",
            "FLYTE_PORT": str(port),
            **extra,
        }
        context = None
        if tls:
            cert, key = self_signed(tmp_path)
            env.update(FLYTE_TLS_CERT_PATH=str(cert), FLYTE_TLS_KEY_PATH=str(key))
            context = ssl.create_default_context(cafile=str(cert))
        log = tmp_path / f"api-{port}.out"
        with log.open("wb") as out:
            web = subprocess.Popen(
                [sys.executable, "-m", "api"], env=env, stdout=out, stderr=out
            )
        started.append(web)
        scheme = "https" if tls else "http"
        return wait_up(Web(f"{scheme}://127.0.0.1:{port}", context), web, log)

    yield start
    for web in started:
        web.terminate()
        web.wait(10)


def wait_up(web: Web, process: subprocess.Popen[bytes], log: Path) -> Web:
    """Wait until the server answers HTTP at all (links need no healthy store)."""
    deadline = time.monotonic() + UP_WITHIN
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(log.read_text())
        try:
            request = urllib.request.Request(web.base + "/v1")
            with urllib.request.urlopen(request, context=web.context, timeout=5):
                return web
        except urllib.error.HTTPError:
            return web  # it answers
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"python -m api did not answer within {UP_WITHIN} s")


@pytest.mark.parametrize("tls", [False, True], ids=["waitress", "cheroot-tls"])
def test_links_follow_the_proxy_by_default(start_web: Any, tls: bool) -> None:
    # Given the web process with no FLYTE_TRUSTED_PROXIES (upstream trusts all)
    web = start_web(tls=tls)
    # When a proxy forwards a request for https://flyte.example.com
    hrefs = web.links("/v1", PROXIED)
    # Then every link points at the proxy's scheme and host
    assert hrefs
    assert all(href.startswith("https://flyte.example.com/") for href in hrefs)


@pytest.mark.parametrize("tls", [False, True], ids=["waitress", "cheroot-tls"])
def test_links_follow_a_proxy_in_a_trusted_network(start_web: Any, tls: bool) -> None:
    web = start_web(tls=tls, FLYTE_TRUSTED_PROXIES="10.0.0.0/8, 127.0.0.0/8")
    hrefs = web.links("/v1/packs", {**PROXIED, "X-Forwarded-Proto": "http"})
    assert hrefs
    assert all(href.startswith("http://flyte.example.com/") for href in hrefs)
    # X-Flyte-Host, from a trusted proxy too, wins over X-Forwarded-Host
    hrefs = web.links("/v1", {**PROXIED, "X-Flyte-Host": "flyte.internal:9"})
    assert all(href.startswith("https://flyte.internal:9/") for href in hrefs)


@pytest.mark.parametrize("tls", [False, True], ids=["waitress", "cheroot-tls"])
def test_links_ignore_proxy_headers_from_an_untrusted_peer(
    start_web: Any, tls: bool
) -> None:
    # Given a web process that trusts only proxies in 10.0.0.0/8
    web = start_web(tls=tls, FLYTE_TRUSTED_PROXIES="10.0.0.0/8")
    # When a client on 127.0.0.1 sends proxy headers, X-Flyte-Host too
    hrefs = web.links("/v1", {**PROXIED, "X-Flyte-Host": "evil.example.com"})
    # Then the links point at the address the client used
    assert hrefs
    assert all(href.startswith(web.base + "/") for href in hrefs)
