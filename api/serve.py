"""Serve the WSGI app: waitress for plain HTTP, cheroot for HTTPS.

Waitress has no TLS; cheroot (CherryPy's pure-Python, thread-pool WSGI server)
has a built-in ``ssl`` adapter, so TLS needs no proxy and works on every OS.
Both serve the app behind the same trusted-proxy filter (api/proxies.py).
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

import waitress
from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from api.proxies import honour_trusted_proxies
from flyte.config import Settings
from flyte.errors import ConfigError

logger = logging.getLogger(__name__)


def serve(app: Any, settings: Settings) -> None:
    """Serve ``app`` until stopped: HTTPS when TLS is configured, else HTTP."""
    if settings.tls_enabled:
        server = tls_server(app, settings)
        logger.info("Flyte API listening on https://%s:%d", *_host_port(settings))
        try:
            server.start()
        except KeyboardInterrupt:
            logger.info("Flyte API stopping")
        finally:
            server.stop()
        return
    logger.info("Flyte API listening on http://%s:%d", *_host_port(settings))
    # Waitress warns each time a request waits for a free thread: under load
    # that is every request, expected, and a log line's CPU each. The wait
    # shows in /metrics (flyte_http_request_duration_seconds) instead.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(
        honour_trusted_proxies(app, settings.trusted_proxies),
        host=settings.bind,
        port=settings.port,
        threads=settings.web_threads,
        ident="flyte",
        # Waitress would drop X-Forwarded-* (its trusted_proxy takes one address,
        # not networks); honour_trusted_proxies applies FLYTE_TRUSTED_PROXIES.
        clear_untrusted_proxy_headers=False,
        _quiet=True,
    )


def tls_server(app: Any, settings: Settings) -> wsgi.Server:
    """A cheroot server for ``app`` with TLS from the configured cert and key.

    Not started: call ``start()`` (blocking), or ``prepare()`` then ``serve()``.
    """
    assert settings.tls_cert_path and settings.tls_key_path  # tls_enabled
    server = wsgi.Server(
        _host_port(settings),
        honour_trusted_proxies(app, settings.trusted_proxies),
        numthreads=settings.web_threads,
        server_name="flyte",
    )
    try:
        # Loads the files now, so a bad cert or key fails at start-up.
        server.ssl_adapter = BuiltinSSLAdapter(
            settings.tls_cert_path, settings.tls_key_path
        )
    except (ssl.SSLError, OSError, ValueError) as ex:
        raise ConfigError("FLYTE_TLS_CERT_PATH", f"cannot load cert/key: {ex}") from ex
    return server


def _host_port(settings: Settings) -> tuple[str, int]:
    return settings.bind, settings.port
