"""The trusted-proxy filter in front of the app, as plain WSGI (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from api.proxies import ProxyHeadersFilter
from api.proxies import TrustedProxies
from api.proxies import honour_trusted_proxies

HEADERS = {
    "HTTP_X_FORWARDED_PROTO": "https",
    "HTTP_X_FORWARDED_HOST": "flyte.example.com",
    "HTTP_X_FLYTE_HOST": "flyte.internal",
    "HTTP_FORWARDED": "proto=https",
}


def seen_by_app(entries: tuple[str, ...], peer: str) -> dict[str, Any]:
    """The environ the wrapped app gets for a request from ``peer``."""
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.update(environ)
        return []

    wrapped = honour_trusted_proxies(app, entries)
    wrapped({"REMOTE_ADDR": peer, **HEADERS}, lambda *_: None)
    return seen


@pytest.mark.parametrize(
    ("entries", "peer"),
    [
        (("*",), "203.0.113.9"),
        (("10.0.0.0/8",), "10.1.2.3"),
        (("192.0.2.1", "fd00::/8"), "fd00::1"),
    ],
)
def test_a_trusted_peer_keeps_its_proxy_headers(
    entries: tuple[str, ...], peer: str
) -> None:
    assert HEADERS.items() <= seen_by_app(entries, peer).items()


@pytest.mark.parametrize(
    ("entries", "peer"),
    [((), "127.0.0.1"), (("10.0.0.0/8",), "127.0.0.1"), (("10.0.0.0/8",), "")],
)
def test_an_untrusted_peer_loses_its_proxy_headers(
    entries: tuple[str, ...], peer: str
) -> None:
    environ = seen_by_app(entries, peer)
    assert not HEADERS.keys() & environ.keys()


def test_trusting_everyone_adds_no_wrapper() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        return []

    assert honour_trusted_proxies(app, ("*",)) is app
    wrapped = honour_trusted_proxies(app, ("10.0.0.0/8",))
    assert isinstance(wrapped, ProxyHeadersFilter)


def test_an_address_outside_every_network_is_not_trusted() -> None:
    trusted = TrustedProxies(["10.0.0.0/8", "2001:db8::/32"])
    assert trusted.is_trusted("2001:db8::5")
    assert not trusted.is_trusted("11.0.0.1")
    assert not trusted.is_trusted("not-an-address")
