"""Client settings of packs and the CLI, read from the environment at their entry.

The names are upstream's flyte-client names (``FLYTE_API``, ``FLYTE_LABELS``,
``FLYTE_API_TIMEOUT``, ``FLYTE_JWT``), plus ``FLYTE_API_URL`` of the older packs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field

from flyte.contract.errors import ConfigError

#: Upstream's flyte-client timeout for every API call, in seconds.
DEFAULT_API_TIMEOUT_SECONDS = 10.0
#: Where ``flyte dev`` serves the API: the default of the SDK, the CLI and the
#: example packs when neither ``FLYTE_API`` nor ``FLYTE_API_URL`` is set.
DEFAULT_LOCAL_API = "http://localhost:8080"
#: No health endpoint unless ``FLYTE_PACK_HEALTH_PORT`` names a port: upstream's
#: fixed 8090 made the second pack on a host fail to bind it.
DEFAULT_HEALTH_PORT = 0

_TRUE = {"1", "t", "true", "yes", "on"}
_FALSE = {"0", "f", "false", "no", "off"}


@dataclass(frozen=True)
class ClientConfig:
    """Where the API is and how to talk to it."""

    api_url: str
    labels: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_API_TIMEOUT_SECONDS
    jwt: str | None = None
    #: ``True``, ``False`` (no verification: tests and self-signed demos only),
    #: or the path of a CA bundle to verify against.
    verify_tls: bool | str = True
    #: The health endpoint's port; 0 for none.
    health_port: int = DEFAULT_HEALTH_PORT

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        default_api: str | None = DEFAULT_LOCAL_API,
    ) -> ClientConfig:
        """Parse the client variables; the API is ``default_api`` when none is set.

        ``default_api=None`` makes a missing API URL an error instead.
        """
        return cls(
            api_url=_api_url(environ, default_api),
            labels=parse_labels(environ.get("FLYTE_LABELS", "")),
            timeout=_timeout(environ.get("FLYTE_API_TIMEOUT", "")),
            jwt=environ.get("FLYTE_JWT", "").strip() or None,
            verify_tls=_verify(environ.get("FLYTE_API_TLS_VERIFY", "")),
            health_port=_health_port(environ.get("FLYTE_PACK_HEALTH_PORT", "")),
        )


def _api_url(environ: Mapping[str, str], default: str | None) -> str:
    url = environ.get("FLYTE_API", "").strip() or environ.get("FLYTE_API_URL", "")
    url = url.strip() or (default or "")
    if not url:
        raise ConfigError("FLYTE_API", "not set: give the URL of the Flyte API")
    if not url.startswith(("http://", "https://")):
        raise ConfigError("FLYTE_API", f"{url!r} is not an http(s) URL")
    return url.rstrip("/")


def parse_labels(raw: str, source: str = "FLYTE_LABELS") -> dict[str, str]:
    """Parse ``k=v,k2=v2`` as upstream does: pairs trimmed, anything else an error.

    ``source`` names where the text came from in the ``ConfigError``.
    """
    labels: dict[str, str] = {}
    if not raw.strip():
        return labels
    for pair in raw.split(","):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(source, f"{pair.strip()!r} is not key=value")
        labels[key.strip()] = value.strip()
    return labels


def _timeout(raw: str) -> float:
    if not raw.strip():
        return DEFAULT_API_TIMEOUT_SECONDS
    try:
        seconds = float(raw)
    except ValueError as ex:
        raise ConfigError("FLYTE_API_TIMEOUT", f"{raw!r} is not seconds") from ex
    if not 0 < seconds < float("inf"):
        raise ConfigError("FLYTE_API_TIMEOUT", f"{raw!r} must be above 0")
    return seconds


def _verify(raw: str) -> bool | str:
    value = raw.strip()
    if not value or value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    if not os.path.isfile(value):
        raise ConfigError(
            "FLYTE_API_TLS_VERIFY", f"{value!r} is neither true/false nor a CA file"
        )
    return value


def _health_port(raw: str) -> int:
    if not raw.strip():
        return DEFAULT_HEALTH_PORT
    if not raw.strip().isdigit() or int(raw) > 65535:
        raise ConfigError("FLYTE_PACK_HEALTH_PORT", f"{raw!r} is not a port (0 = off)")
    return int(raw)
