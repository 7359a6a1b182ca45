"""Settings: every environment variable Flyte reads, parsed once at an entry point.

Names and defaults follow upstream Flyte (see docs/configuration.md). A value that
cannot be parsed raises ConfigError naming the variable, except where upstream
documents a silent fallback to the default.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from pymongo import uri_parser
from pymongo.errors import InvalidURI

from flyte.errors import ConfigError

#: Port without TLS, and with it (upstream defaults).
DEFAULT_PORT = 8080
DEFAULT_TLS_PORT = 8443
#: Interface the API binds to; upstream listens on all interfaces.
DEFAULT_BIND = "0.0.0.0"
DEFAULT_MGO_HOST = "localhost:27017"
DEFAULT_DATABASE = "flyte"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"
#: URL schemes of FLYTE_BROKER_URL that select RabbitMQ, and Redis.
AMQP_SCHEMES = ("amqp://", "amqps://")
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
DEFAULT_LOG_LEVEL = "INFO"
#: How long a Mongo call waits for a server before failing (so /health stays fast).
DEFAULT_MGO_TIMEOUT_MS = 5000
#: Requests one API process serves at once. They mostly wait on MongoDB and
#: Redis, and concurrent writes go out together (flyte/store/batching.py): 16
#: took 1.7 times the events per second of waitress's own 4 (docs/performance.md).
DEFAULT_WEB_THREADS = 16
#: Action TTL: 365.25 days, as upstream.
DEFAULT_ACTION_TTL_SECONDS = 31557600
#: MongoDB's largest TTL (expireAfterSeconds is a 32-bit integer).
MAX_TTL = 2**31 - 1
#: Audit TTL: 183 days, upstream's fixed value (configurable here).
DEFAULT_AUDIT_TTL_SECONDS = 15811200
#: Stored events (and their outcomes) are kept as long as the audit.
DEFAULT_EVENT_TTL_SECONDS = DEFAULT_AUDIT_TTL_SECONDS
#: How long an Idempotency-Key is remembered: a day by default (the least the
#: API promises, so packs may retry that long), at most 30 days.
DEFAULT_IDEMPOTENCY_WINDOW_SECONDS = 86400
MIN_IDEMPOTENCY_WINDOW_SECONDS = 86400
MAX_IDEMPOTENCY_WINDOW_SECONDS = 30 * 86400
DEFAULT_DELETE_DEAD_PACKS_AT = "23:00"
#: One week without contact before a pack counts as dead.
DEFAULT_PACK_GRACE_SECONDS = 604800
DEFAULT_DATA_DIR = ".flyte"
#: Template limits: a render may produce at most 1 MB, and take at most 1 s.
DEFAULT_TEMPLATE_MAX_OUTPUT_BYTES = 1_000_000
DEFAULT_TEMPLATE_TIMEOUT_MS = 1000
#: A taken action must get its result within 10 minutes, or it is handed out
#: again; after 3 hand-outs it fails (FATAL). Fits chat-ops commands that take
#: seconds to minutes; raise it for long-running commands.
DEFAULT_ACTION_LEASE_SECONDS = 600
DEFAULT_ACTION_MAX_ATTEMPTS = 3
#: An event still unprocessed after a minute has lost its message: queue it again.
DEFAULT_EVENT_RECOVERY_SECONDS = 60
#: The scheduler sends the event-recovery job this often...
DEFAULT_RECOVERY_INTERVAL_SECONDS = 15
#: ... and the lease-expiry job this often.
DEFAULT_LEASE_CHECK_INTERVAL_SECONDS = 5
#: A result event whose action never finished with it is discarded after 5 min
#: (the API failed between storing it and finishing the action).
DEFAULT_ORPHAN_WINDOW_SECONDS = 300
#: Re-queues of one stuck event before it is marked failed.
DEFAULT_EVENT_MAX_RECOVERIES = 5
#: Longest orphan window: a day.
MAX_ORPHAN_WINDOW_SECONDS = 86400
#: Most re-queues of one stuck event.
MAX_EVENT_MAX_RECOVERIES = 1000
#: Longest interval of a periodic job: an hour.
MAX_JOB_INTERVAL_SECONDS = 3600
#: Largest datastore value: 1 MB by default, and at most 16 MB because a
#: MongoDB document holds at most 16 MiB.
DEFAULT_DATASTORE_MAX_BYTES = 1_000_000
MAX_DATASTORE_MAX_BYTES = 16_000_000
#: Input limits for JSON/YAML request bodies (the datastore upload has its own).
DEFAULT_MAX_BODY_BYTES = 1_000_000
DEFAULT_MAX_JSON_DEPTH = 64
DEFAULT_MAX_FLOW_STEPS = 1000
DEFAULT_MAX_LABELS = 64
#: Peers whose X-Forwarded-Proto/-Host and X-Flyte-Host count: everyone, as
#: upstream (which reads them from every request).
DEFAULT_TRUSTED_PROXIES = ("*",)
#: A Fernet key's size, and how many old keys may still decrypt secrets.
FERNET_KEY_BYTES = 32
MAX_SECRETS_OLD_KEYS = 10
#: Where ``python -m workers.metrics`` serves a worker-only host's metrics.
DEFAULT_METRICS_PORT = 9191

#: zerolog level names (upstream) mapped to Python logging levels.
_LOG_LEVELS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "fatal": "CRITICAL",
    "panic": "CRITICAL",
    "critical": "CRITICAL",
}
#: Go strconv.ParseBool accepts exactly these spellings.
_GO_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_GO_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Settings:
    """Every setting of a Flyte process; built by ``from_env`` or directly in tests."""

    port: int = DEFAULT_PORT
    bind: str = DEFAULT_BIND
    mongo_uri: str = f"mongodb://{DEFAULT_MGO_HOST}/"
    mongo_database: str = DEFAULT_DATABASE
    mongo_timeout_ms: int = DEFAULT_MGO_TIMEOUT_MS
    redis_url: str = DEFAULT_REDIS_URL
    #: The Dramatiq broker (amqp:// or redis://); ``None``: the Redis of ``redis_url``.
    broker_url: str | None = None
    log_level: str = DEFAULT_LOG_LEVEL
    web_threads: int = DEFAULT_WEB_THREADS
    tls_cert_path: str | None = None
    tls_key_path: str | None = None
    action_ttl_seconds: int = DEFAULT_ACTION_TTL_SECONDS
    audit_ttl_seconds: int = DEFAULT_AUDIT_TTL_SECONDS
    event_ttl_seconds: int = DEFAULT_EVENT_TTL_SECONDS
    idempotency_window_seconds: int = DEFAULT_IDEMPOTENCY_WINDOW_SECONDS
    should_delete_dead_packs: bool = False
    delete_dead_packs_at: str = DEFAULT_DELETE_DEAD_PACKS_AT
    pack_grace_seconds: int = DEFAULT_PACK_GRACE_SECONDS
    data_dir: str = DEFAULT_DATA_DIR
    template_max_output_bytes: int = DEFAULT_TEMPLATE_MAX_OUTPUT_BYTES
    template_timeout_ms: int = DEFAULT_TEMPLATE_TIMEOUT_MS
    action_lease_seconds: int = DEFAULT_ACTION_LEASE_SECONDS
    action_max_attempts: int = DEFAULT_ACTION_MAX_ATTEMPTS
    event_recovery_seconds: int = DEFAULT_EVENT_RECOVERY_SECONDS
    recovery_interval_seconds: int = DEFAULT_RECOVERY_INTERVAL_SECONDS
    lease_check_interval_seconds: int = DEFAULT_LEASE_CHECK_INTERVAL_SECONDS
    orphan_window_seconds: int = DEFAULT_ORPHAN_WINDOW_SECONDS
    event_max_recoveries: int = DEFAULT_EVENT_MAX_RECOVERIES
    datastore_max_bytes: int = DEFAULT_DATASTORE_MAX_BYTES
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    max_flow_steps: int = DEFAULT_MAX_FLOW_STEPS
    max_labels: int = DEFAULT_MAX_LABELS
    auth_policy_path: str | None = None
    oidc_issuer_url: str | None = None
    oidc_client_id: str | None = None
    trusted_proxies: tuple[str, ...] = DEFAULT_TRUSTED_PROXIES
    #: prometheus_client's multi-process directory; ``None``: each process alone.
    metrics_multiproc_dir: str | None = None
    metrics_port: int = DEFAULT_METRICS_PORT
    #: Fernet key that encrypts datastore secrets (FLYTE_SECRETS_KEY); kept out
    #: of repr so a logged Settings never shows it.
    secrets_key: str | None = field(default=None, repr=False)
    #: Earlier keys, still accepted for reads until ``flyte datastore rekey``.
    secrets_old_keys: tuple[str, ...] = field(default=(), repr=False)

    @property
    def auth_enabled(self) -> bool:
        """Auth is on only when the policy, the issuer and the client id are all set."""
        return bool(
            self.auth_policy_path and self.oidc_issuer_url and self.oidc_client_id
        )

    @property
    def broker(self) -> str:
        """The URL of the Dramatiq broker: ``FLYTE_BROKER_URL``, else ``REDIS_URL``."""
        return self.broker_url or self.redis_url

    @property
    def uses_rabbitmq(self) -> bool:
        """True when the broker is RabbitMQ (an ``amqp://`` or ``amqps://`` URL)."""
        return self.broker.startswith(AMQP_SCHEMES)

    @property
    def tls_enabled(self) -> bool:
        """TLS is on only when both the certificate and the key are configured."""
        return bool(self.tls_cert_path and self.tls_key_path)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """Parse settings from an environment mapping (``os.environ`` by default)."""
        cert, key = _tls_paths(environ)
        mongo_uri, database = parse_mongo_host(
            environ.get("FLYTE_MGO_HOST", DEFAULT_MGO_HOST)
        )
        return cls(
            port=_port(environ, DEFAULT_TLS_PORT if cert and key else DEFAULT_PORT),
            bind=environ.get("FLYTE_BIND", DEFAULT_BIND),
            mongo_uri=mongo_uri,
            mongo_database=database,
            mongo_timeout_ms=_int(environ, "FLYTE_MGO_TIMEOUT_MS", 1, None)
            or DEFAULT_MGO_TIMEOUT_MS,
            redis_url=_redis_url(environ),
            broker_url=_broker_url(environ),
            log_level=_log_level(environ.get("LOGLEVEL", "")),
            web_threads=_int(environ, "FLYTE_WEB_THREADS", 1, 1024)
            or DEFAULT_WEB_THREADS,
            tls_cert_path=cert,
            tls_key_path=key,
            action_ttl_seconds=_int_or_default(
                environ, "FLYTE_TTL_IN_SECONDS", DEFAULT_ACTION_TTL_SECONDS
            ),
            audit_ttl_seconds=_int(environ, "FLYTE_AUDIT_TTL_IN_SECONDS", 1, MAX_TTL)
            or DEFAULT_AUDIT_TTL_SECONDS,
            event_ttl_seconds=_int(environ, "FLYTE_EVENT_TTL_IN_SECONDS", 1, MAX_TTL)
            or DEFAULT_EVENT_TTL_SECONDS,
            idempotency_window_seconds=_int(
                environ,
                "FLYTE_IDEMPOTENCY_WINDOW_SECONDS",
                MIN_IDEMPOTENCY_WINDOW_SECONDS,
                MAX_IDEMPOTENCY_WINDOW_SECONDS,
            )
            or DEFAULT_IDEMPOTENCY_WINDOW_SECONDS,
            should_delete_dead_packs=environ.get("FLYTE_SHOULD_DELETE_DEAD_PACKS", "")
            in _GO_TRUE,
            delete_dead_packs_at=_hh_mm(
                environ.get("FLYTE_DELETE_DEAD_PACKS_AT_HH_COLON_MM", "")
            ),
            pack_grace_seconds=_int(
                environ, "FLYTE_PACK_GRACE_PERIOD_UNTIL_MARKED_DEAD_IN_SECONDS", 0, None
            )
            or DEFAULT_PACK_GRACE_SECONDS,
            data_dir=environ.get("FLYTE_DATA_DIR", DEFAULT_DATA_DIR),
            template_max_output_bytes=_int(
                environ, "FLYTE_TEMPLATE_MAX_OUTPUT_BYTES", 1, None
            )
            or DEFAULT_TEMPLATE_MAX_OUTPUT_BYTES,
            template_timeout_ms=_int(environ, "FLYTE_TEMPLATE_TIMEOUT_MS", 1, None)
            or DEFAULT_TEMPLATE_TIMEOUT_MS,
            action_lease_seconds=_int(environ, "FLYTE_ACTION_LEASE_SECONDS", 1, None)
            or DEFAULT_ACTION_LEASE_SECONDS,
            action_max_attempts=_int(environ, "FLYTE_ACTION_MAX_ATTEMPTS", 1, 100)
            or DEFAULT_ACTION_MAX_ATTEMPTS,
            event_recovery_seconds=_int(
                environ, "FLYTE_EVENT_RECOVERY_SECONDS", 1, None
            )
            or DEFAULT_EVENT_RECOVERY_SECONDS,
            recovery_interval_seconds=_int(
                environ,
                "FLYTE_RECOVERY_INTERVAL_SECONDS",
                1,
                MAX_JOB_INTERVAL_SECONDS,
            )
            or DEFAULT_RECOVERY_INTERVAL_SECONDS,
            lease_check_interval_seconds=_int(
                environ,
                "FLYTE_LEASE_CHECK_INTERVAL_SECONDS",
                1,
                MAX_JOB_INTERVAL_SECONDS,
            )
            or DEFAULT_LEASE_CHECK_INTERVAL_SECONDS,
            orphan_window_seconds=_int(
                environ, "FLYTE_ORPHAN_WINDOW_SECONDS", 1, MAX_ORPHAN_WINDOW_SECONDS
            )
            or DEFAULT_ORPHAN_WINDOW_SECONDS,
            event_max_recoveries=_int(
                environ, "FLYTE_EVENT_MAX_RECOVERIES", 1, MAX_EVENT_MAX_RECOVERIES
            )
            or DEFAULT_EVENT_MAX_RECOVERIES,
            datastore_max_bytes=_int(
                environ, "FLYTE_DATASTORE_MAX_BYTES", 1, MAX_DATASTORE_MAX_BYTES
            )
            or DEFAULT_DATASTORE_MAX_BYTES,
            max_body_bytes=_int(environ, "FLYTE_MAX_BODY_BYTES", 1, None)
            or DEFAULT_MAX_BODY_BYTES,
            max_json_depth=_int(environ, "FLYTE_MAX_JSON_DEPTH", 1, 500)
            or DEFAULT_MAX_JSON_DEPTH,
            max_flow_steps=_int(environ, "FLYTE_MAX_FLOW_STEPS", 1, None)
            or DEFAULT_MAX_FLOW_STEPS,
            max_labels=_int(environ, "FLYTE_MAX_LABELS", 1, None) or DEFAULT_MAX_LABELS,
            auth_policy_path=_existing_file(environ, "FLYTE_AUTH_POLICY_PATH"),
            oidc_issuer_url=environ.get("FLYTE_OIDC_ISSUER_URL", "").strip() or None,
            oidc_client_id=environ.get("FLYTE_OIDC_ISSUER_CLIENT_ID", "").strip()
            or None,
            trusted_proxies=_trusted_proxies(environ),
            metrics_multiproc_dir=environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
            or None,
            metrics_port=_int(environ, "FLYTE_METRICS_PORT", 1, 65535)
            or DEFAULT_METRICS_PORT,
            secrets_key=_secrets_key(environ),
            secrets_old_keys=_secrets_old_keys(environ),
        )


def parse_mongo_host(value: str) -> tuple[str, str]:
    """Turn ``host:port`` or a ``mongodb://`` URI into (uri, database name)."""
    uri = value if "://" in value else f"mongodb://{value}"
    if uri.startswith("mongodb+srv://"):
        # Validating an SRV URI needs DNS; leave that to the first connection.
        return uri, DEFAULT_DATABASE
    try:
        parsed = uri_parser.parse_uri(uri)
    except (InvalidURI, ValueError) as ex:
        raise ConfigError("FLYTE_MGO_HOST", f"cannot parse {value!r}: {ex}") from ex
    return uri, parsed.get("database") or DEFAULT_DATABASE


def _port(environ: Mapping[str, str], default: int) -> int:
    port = _int(environ, "FLYTE_PORT", 0, 65535)
    return default if port is None else port


def _int(
    environ: Mapping[str, str], name: str, low: int | None, high: int | None
) -> int | None:
    """Parse an optional integer; unparseable or out of range is a ConfigError."""
    raw = environ.get(name, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError as ex:
        raise ConfigError(name, f"{raw!r} is not an integer") from ex
    if (low is not None and value < low) or (high is not None and value > high):
        raise ConfigError(name, f"{value} is outside {low}..{high or 'any'}")
    return value


def _int_or_default(environ: Mapping[str, str], name: str, default: int) -> int:
    """Upstream falls back to the default for a non-integer value here."""
    try:
        return int(environ.get(name, "").strip())
    except ValueError:
        return default


def _redis_url(environ: Mapping[str, str]) -> str:
    url = environ.get("REDIS_URL", "").strip() or DEFAULT_REDIS_URL
    if not re.match(r"^(redis|rediss|unix)://", url):
        raise ConfigError(
            "REDIS_URL", f"{url!r} is not a redis://, rediss:// or unix:// URL"
        )
    return url


def _broker_url(environ: Mapping[str, str]) -> str | None:
    url = environ.get("FLYTE_BROKER_URL", "").strip() or None
    if url and not url.startswith((*AMQP_SCHEMES, *REDIS_SCHEMES)):
        raise ConfigError(
            "FLYTE_BROKER_URL",
            f"{url!r} is not an amqp://, amqps://, redis://, rediss:// or unix:// URL",
        )
    return url


def _log_level(raw: str) -> str:
    """Upstream treats an unknown level as info."""
    return _LOG_LEVELS.get(raw.strip().lower(), DEFAULT_LOG_LEVEL)


def _hh_mm(raw: str) -> str:
    """Upstream falls back to 23:00 for anything that is not a valid HH:MM."""
    return raw if _HH_MM.match(raw) else DEFAULT_DELETE_DEAD_PACKS_AT


def _tls_paths(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    paths = []
    for name in ("FLYTE_TLS_CERT_PATH", "FLYTE_TLS_KEY_PATH"):
        path = environ.get(name, "").strip() or None
        if path and not Path(path).is_file():
            raise ConfigError(name, f"file {path!r} does not exist")
        paths.append(path)
    return paths[0], paths[1]


def _trusted_proxies(environ: Mapping[str, str]) -> tuple[str, ...]:
    """``*``, ``none``, or comma-separated IP addresses and CIDR networks."""
    raw = environ.get("FLYTE_TRUSTED_PROXIES", "").strip()
    if not raw:
        return DEFAULT_TRUSTED_PROXIES
    if raw.lower() == "none":
        return ()
    entries = tuple(entry.strip() for entry in raw.split(",") if entry.strip())
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as ex:
            raise ConfigError(
                "FLYTE_TRUSTED_PROXIES",
                f"{entry!r} is not *, an IP address or a CIDR network",
            ) from ex
    return entries


def _existing_file(environ: Mapping[str, str], name: str) -> str | None:
    """An optional path; a set path to a missing file stops start-up."""
    path = environ.get(name, "").strip() or None
    if path and not Path(path).is_file():
        raise ConfigError(name, f"file {path!r} does not exist")
    return path


def _fernet_key(name: str, raw: str) -> str:
    """A Fernet key: 32 bytes in URL-safe base64 (``flyte datastore new-key``)."""
    try:
        decoded = base64.urlsafe_b64decode(raw.encode("ascii"))
    except (ValueError, binascii.Error) as ex:
        raise ConfigError(name, "is not URL-safe base64 (a Fernet key)") from ex
    if len(decoded) != FERNET_KEY_BYTES:
        raise ConfigError(name, f"must decode to {FERNET_KEY_BYTES} bytes")
    return raw


def _secrets_key(environ: Mapping[str, str]) -> str | None:
    raw = environ.get("FLYTE_SECRETS_KEY", "").strip()
    return _fernet_key("FLYTE_SECRETS_KEY", raw) if raw else None


def _secrets_old_keys(environ: Mapping[str, str]) -> tuple[str, ...]:
    raw = environ.get("FLYTE_SECRETS_OLD_KEYS", "")
    entries = [entry.strip() for entry in raw.split(",") if entry.strip()]
    if len(entries) > MAX_SECRETS_OLD_KEYS:
        raise ConfigError("FLYTE_SECRETS_OLD_KEYS", f"at most {MAX_SECRETS_OLD_KEYS}")
    return tuple(_fernet_key("FLYTE_SECRETS_OLD_KEYS", e) for e in entries)
