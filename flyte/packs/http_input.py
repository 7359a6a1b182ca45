"""The input of the HTTP pack's ``Request`` command, parsed and checked.

``"https://example.com"`` is a GET of that URL; an object says more:
``{method, url, headers, params, body | json, timeout, followRedirects}``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from flyte.packs.errors import InvalidRequest

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_KEYS = frozenset(
    {"method", "url", "headers", "params", "body", "json", "timeout", "followRedirects"}
)
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True)
class Request:
    """One HTTP request to make."""

    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    content: str | None = None
    json: Any = None
    #: Seconds; ``None`` means the pack's default.
    timeout: float | None = None
    follow_redirects: bool = True


def parse_request(value: Any) -> Request:
    """The request ``value`` describes; ``InvalidRequest`` saying what is wrong."""
    if isinstance(value, str):
        return Request(url=_url(value))
    if not isinstance(value, Mapping):
        raise InvalidRequest("give a URL or an object with at least 'url'")
    unknown = sorted(set(value) - _KEYS)
    if unknown:
        raise InvalidRequest(f"unknown key(s) {unknown}; known: {sorted(_KEYS)}")
    if "body" in value and "json" in value:
        raise InvalidRequest("give 'body' or 'json', not both")
    return Request(
        url=_url(value.get("url")),
        method=_method(value.get("method", "GET")),
        headers=_headers(value.get("headers") or {}),
        params=_params(value.get("params") or {}),
        content=_body(value.get("body")),
        json=value.get("json"),
        timeout=_timeout(value.get("timeout")),
        follow_redirects=_flag(value.get("followRedirects", True)),
    )


def _url(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest("'url' must be a non-empty string")
    url = value.strip()
    if not url.lower().startswith(("http://", "https://")):
        raise InvalidRequest(f"'url' must be http(s), not {url!r}")
    return url


def _method(value: Any) -> str:
    method = value.upper() if isinstance(value, str) else value
    if method not in METHODS:
        raise InvalidRequest(
            f"'method' must be one of {sorted(METHODS)}, not {value!r}"
        )
    return str(method)


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(v, str) for v in value.values()
    ):
        raise InvalidRequest("'headers' must be an object of strings")
    return {str(k): v for k, v in value.items()}


def _params(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidRequest("'params' must be an object")
    for key, item in value.items():
        items = item if isinstance(item, list) else [item]
        if not all(isinstance(one, _SCALARS) for one in items):
            raise InvalidRequest(f"'params.{key}' must be a string, number or list")
    return dict(value)


def _body(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidRequest("'body' must be a string (use 'json' for a document)")
    return value


def _timeout(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidRequest("'timeout' must be seconds, a number")
    if not 0 < value < math.inf:
        raise InvalidRequest("'timeout' must be above 0")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest("'followRedirects' must be true or false")
    return value
