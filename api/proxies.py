"""Proxy headers: keep X-Forwarded-* and X-Flyte-Host only from trusted proxies.

Links are built from these headers (api/links.py). Both servers pass them through
untouched (waitress's own filter is off, cheroot has none), and this one WSGI
wrapper applies ``FLYTE_TRUSTED_PROXIES`` in front of the app on either server.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

#: The WSGI keys of the headers a proxy sets (waitress's list, plus X-Flyte-Host).
PROXY_HEADER_KEYS = (
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_BY",
    "HTTP_FORWARDED",
    "HTTP_X_FLYTE_HOST",
)

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TrustedProxies:
    """The peers whose proxy headers count: everyone (``*``) or listed networks."""

    def __init__(self, entries: Iterable[str]) -> None:
        entries = tuple(entries)
        self.everyone = "*" in entries
        self._networks: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(entry, strict=False)
            for entry in entries
            if entry != "*"
        )

    def is_trusted(self, peer: str) -> bool:
        """Whether the connection's peer address is a trusted proxy."""
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False  # a Unix socket or an unknown peer
        return any(address in network for network in self._networks)


class ProxyHeadersFilter:
    """WSGI wrapper: drops proxy headers sent by a peer that is not trusted."""

    def __init__(self, app: Any, trusted: TrustedProxies) -> None:
        self._app = app
        self._trusted = trusted

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        """Serve one request, with proxy headers only from a trusted peer."""
        if not self._trusted.is_trusted(environ.get("REMOTE_ADDR", "")):
            for key in PROXY_HEADER_KEYS:
                environ.pop(key, None)
        return self._app(environ, start_response)


def honour_trusted_proxies(app: Any, entries: Iterable[str]) -> Any:
    """``app`` seeing proxy headers only from the trusted proxies in ``entries``."""
    trusted = TrustedProxies(entries)
    # Trusting everyone filters nothing: skip the wrapper.
    return app if trusted.everyone else ProxyHeadersFilter(app, trusted)
