"""HTTPS: the real cheroot server, and ``python -m api``, serve over TLS."""

from __future__ import annotations

import dataclasses
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from pymongo.database import Database

from api.serve import tls_server
from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.errors import ConfigError
from tests.certs import self_signed

HEALTHY_WITHIN = 15.0


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key, as PEM files."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def trusting(cert_files: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts exactly the test certificate."""
    return ssl.create_default_context(cafile=str(cert_files[0]))


@pytest.fixture
def https_base(
    client: testing.TestClient, settings: Settings, cert_files: tuple[Path, Path]
) -> Iterator[str]:
    """The test app served over HTTPS by cheroot in a thread; yields its base URL."""
    tls = dataclasses.replace(
        settings,
        bind="127.0.0.1",
        port=0,
        tls_cert_path=str(cert_files[0]),
        tls_key_path=str(cert_files[1]),
    )
    server = tls_server(client.app, tls)
    server.prepare()  # binds, so the free port is known
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.bind_addr[1]}"
    server.stop()
    thread.join(5)


def get_json(url: str, context: ssl.SSLContext, **headers: str) -> dict:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, context=context, timeout=5) as resp:
        assert resp.status == 200
        body: dict = json.load(resp)
        return body


def test_health_answers_over_https(https_base: str, trusting: ssl.SSLContext) -> None:
    assert get_json(f"{https_base}/health", trusting)["status"] == "ok"


def test_links_use_https(https_base: str, trusting: ssl.SSLContext) -> None:
    body = get_json(f"{https_base}/v1", trusting)
    assert body["links"]
    assert all(link["href"].startswith(https_base) for link in body["links"])


def test_forwarded_proto_still_wins(https_base: str, trusting: ssl.SSLContext) -> None:
    body = get_json(f"{https_base}/v1", trusting, **{"X-Forwarded-Proto": "http"})
    assert all(link["href"].startswith("http://") for link in body["links"])


def test_plain_http_to_the_tls_port_gets_no_answer(https_base: str) -> None:
    with pytest.raises(OSError):
        urllib.request.urlopen(
            https_base.replace("https", "http") + "/health", timeout=5
        )


def test_unreadable_key_is_a_config_error(
    settings: Settings, cert_files: tuple[Path, Path]
) -> None:
    tls = dataclasses.replace(
        settings, tls_cert_path=str(cert_files[0]), tls_key_path=str(cert_files[0])
    )
    with pytest.raises(ConfigError, match="FLYTE_TLS_CERT_PATH"):
        tls_server(object(), tls)


def with_database(uri: str, database: str) -> str:
    """The URI naming the test's own database (dropped by the ``db`` fixture)."""
    head, _, query = uri.partition("?")
    if head.count("/") > 3 and not head.endswith("/"):
        return uri  # names a database already
    return f"{head.rstrip('/')}/{database}" + (f"?{query}" if query else "")


@pytest.mark.slow
def test_python_m_api_serves_https(
    settings: Settings,
    db: Database[dict[str, Any]],
    cert_files: tuple[Path, Path],
    trusting: ssl.SSLContext,
    tmp_path: Path,
) -> None:
    # Given the real web process with both TLS paths and no FLYTE_PORT override
    port = free_port()
    env = {
        **os.environ,
        "FLYTE_MGO_HOST": with_database(settings.mongo_uri, db.name),
        "REDIS_URL": settings.redis_url,
        "FLYTE_BIND": "127.0.0.1",
        "FLYTE_PORT": str(port),
        "FLYTE_TLS_CERT_PATH": str(cert_files[0]),
        "FLYTE_TLS_KEY_PATH": str(cert_files[1]),
    }
    with (tmp_path / "api.out").open("wb") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "api"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        # When it is up, Then /health answers over HTTPS with https links
        body = wait_for(f"https://127.0.0.1:{port}", web, trusting, tmp_path)
        assert body["status"] == "ok"
    finally:
        web.terminate()
        web.wait(10)


def wait_for(
    base: str, web: subprocess.Popen[bytes], context: ssl.SSLContext, logs: Path
) -> dict:
    deadline = time.monotonic() + HEALTHY_WITHIN
    while time.monotonic() < deadline:
        if web.poll() is not None:
            pytest.fail((logs / "api.out").read_text())
        try:
            return get_json(f"{base}/health", context)
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"/health did not answer over HTTPS within {HEALTHY_WITHIN} s")
