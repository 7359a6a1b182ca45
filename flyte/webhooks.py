"""Webhook ingress: a signed HTTP request from GitHub, GitLab or any sender becomes
an event of a pseudo-pack, which flows match like any pack's event.

A webhook's configuration names the pseudo-pack, how the event is named (fixed,
or read from a header such as ``X-GitHub-Event``), which headers the payload
keeps, and how the sender signs: GitHub's ``X-Hub-Signature-256``, GitLab's
``X-Gitlab-Token``, a generic HMAC, or nothing. Signing secrets are datastore
secrets, revealed only to check a signature, and compared in constant time.

A delivery id header (``X-GitHub-Delivery``, ``X-Gitlab-Event-UUID``) makes a
redelivery answer with the first delivery's event instead of storing another,
through the same store as the ``Idempotency-Key`` of pack events.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from enum import StrEnum
from typing import Any
from typing import Protocol

from flyte.clock import derived_id
from flyte.clock import new_id
from flyte.errors import AuthError
from flyte.errors import FlyteError
from flyte.errors import NotFound
from flyte.errors import Problem
from flyte.errors import ValidationError
from flyte.event import Event
from flyte.event import PackRef
from flyte.idempotency import IdempotencyKey
from flyte.idempotency import KeyedIngest
from flyte.queue import WorkQueue
from flyte.store import Stores

logger = logging.getLogger(__name__)

#: Webhook names: what fits in a URL path segment without escaping.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
#: HTTP header names (RFC 9110 tokens).
_HEADER = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}")
#: The event name when neither a fixed name nor the event header gives one.
DEFAULT_EVENT = "received"
#: Hash functions a generic HMAC may use.
ALGORITHMS: Mapping[str, Callable[[], Any]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha512": hashlib.sha512,
}
#: The most headers a webhook may keep in its events' payload.
MAX_KEPT_HEADERS = 50


class SignatureKind(StrEnum):
    """How a sender proves a delivery is its own."""

    GITHUB = "github"
    GITLAB = "gitlab"
    HMAC = "hmac"
    NONE = "none"


@dataclass(frozen=True)
class Signature:
    """The signature check: kind, the datastore secret, and a generic HMAC's shape."""

    kind: SignatureKind = SignatureKind.NONE
    secret: str | None = None
    header: str | None = None
    algorithm: str = "sha256"
    prefix: str = ""

    def to_json(self) -> dict[str, Any]:
        """The API and stored shape."""
        body: dict[str, Any] = {"type": self.kind.value}
        if self.secret is not None:
            body["secret"] = self.secret
        if self.kind is SignatureKind.HMAC:
            body |= {
                "header": self.header,
                "algorithm": self.algorithm,
                "prefix": self.prefix,
            }
        return body


#: What each kind reads, when the configuration does not say otherwise.
_SIGNATURE_HEADERS = {
    SignatureKind.GITHUB: "X-Hub-Signature-256",
    SignatureKind.GITLAB: "X-Gitlab-Token",
}
_DELIVERY_HEADERS = {
    SignatureKind.GITHUB: "X-GitHub-Delivery",
    SignatureKind.GITLAB: "X-Gitlab-Event-UUID",
}


@dataclass(frozen=True)
class WebhookConfig:
    """One webhook: where its events come from and how its deliveries are checked."""

    name: str
    pack: str
    signature: Signature = Signature()
    labels: Mapping[str, str] = field(default_factory=dict)
    event: str = DEFAULT_EVENT
    event_header: str | None = None
    keep_headers: tuple[str, ...] = ()
    delivery_header: str | None = None
    description: str = ""

    @property
    def pack_ref(self) -> PackRef:
        """The pseudo-pack its events come from (never registered as a pack)."""
        return PackRef(derived_id("webhook", self.name), self.pack, dict(self.labels))

    def to_json(self) -> dict[str, Any]:
        """The API and stored shape (camelCase, as the rest of the API)."""
        body: dict[str, Any] = {
            "name": self.name,
            "pack": self.pack,
            "labels": dict(self.labels),
            "event": self.event,
            "eventHeader": self.event_header,
            "keepHeaders": list(self.keep_headers),
            "deliveryHeader": self.delivery_header,
            "signature": self.signature.to_json(),
        }
        if self.description:
            body["description"] = self.description
        return body


class InvalidWebhook(ValidationError):
    """A webhook configuration with problems (400)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("webhook", problems)


class WebhookNotFound(NotFound):
    """No webhook is configured under that name (404)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"webhook {name!r} not found")
        self.name = name


class SignatureRefused(AuthError):
    """A delivery's signature is missing or wrong (401)."""


class SecretSource(Protocol):
    """Where signing secrets come from: the datastore's secrets."""

    def reveal_secret(self, key: str) -> str:
        """The secret's plaintext; raise NotFound when there is no such secret."""
        ...


def parse_config(name: str, body: Any) -> WebhookConfig:
    """Validate a configuration body for webhook ``name``; raise InvalidWebhook."""
    problems: list[Problem] = []
    if not _NAME.fullmatch(name):
        problems.append(Problem("name", "letters, digits, '.', '_' or '-' (<= 100)"))
    if not isinstance(body, dict):
        raise InvalidWebhook([*problems, Problem("$", "must be an object")])
    reader = _Reader(body, problems)
    if (given := body.get("name")) is not None and given != name:
        problems.append(Problem("name", f"is {given!r}, but the URL says {name!r}"))
    signature = _signature(body.get("signature"), problems)
    event_header = reader.header("eventHeader")
    config = WebhookConfig(
        name=name,
        pack=reader.text("pack") or f"webhook-{name}",
        signature=signature,
        labels=reader.labels(),
        event=reader.text("event") or DEFAULT_EVENT,
        event_header=event_header,
        keep_headers=reader.headers("keepHeaders"),
        delivery_header=reader.header("deliveryHeader")
        or _DELIVERY_HEADERS.get(signature.kind),
        description=reader.text("description") or "",
    )
    unknown = set(body) - _KNOWN_FIELDS
    problems += [Problem(key, "unknown field") for key in sorted(unknown)]
    if problems:
        raise InvalidWebhook(problems)
    return config


_KNOWN_FIELDS = {
    "name",
    "pack",
    "labels",
    "event",
    "eventHeader",
    "keepHeaders",
    "deliveryHeader",
    "signature",
    "description",
}


class _Reader:
    """Typed reads of a configuration's fields, collecting problems."""

    def __init__(self, body: Mapping[str, Any], problems: list[Problem]) -> None:
        self._body = body
        self._problems = problems

    def text(self, key: str) -> str | None:
        value = self._body.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > 1000:
            self._problems.append(Problem(key, "must be a non-empty string"))
            return None
        return value

    def header(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not _HEADER.fullmatch(value):
            self._problems.append(Problem(key, "must be an HTTP header name"))
            return None
        return value

    def headers(self, key: str) -> tuple[str, ...]:
        value = self._body.get(key) or []
        if not isinstance(value, list) or len(value) > MAX_KEPT_HEADERS:
            self._problems.append(
                Problem(key, f"must be a list of at most {MAX_KEPT_HEADERS} headers")
            )
            return ()
        bad = [h for h in value if not isinstance(h, str) or not _HEADER.fullmatch(h)]
        if bad:
            self._problems.append(Problem(key, f"not header names: {bad!r}"))
            return ()
        return tuple(value)

    def labels(self) -> dict[str, str]:
        value = self._body.get("labels") or {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            self._problems.append(Problem("labels", "must map strings to strings"))
            return {}
        return dict(value)


def _signature(body: Any, problems: list[Problem]) -> Signature:
    """The ``signature`` field: ``{type, secret, header?, algorithm?, prefix?}``."""
    if body is None:
        return Signature()
    if not isinstance(body, dict):
        problems.append(Problem("signature", "must be an object"))
        return Signature()
    reader = _Reader(body, problems)
    try:
        kind = SignatureKind(body.get("type", "none"))
    except ValueError:
        kinds = ", ".join(k.value for k in SignatureKind)
        problems.append(Problem("signature.type", f"must be one of {kinds}"))
        return Signature()
    secret = reader.text("secret")
    if kind is not SignatureKind.NONE and secret is None:
        problems.append(Problem("signature.secret", "names the datastore secret"))
    if kind is not SignatureKind.HMAC:
        return Signature(kind, secret)
    algorithm = body.get("algorithm", "sha256")
    if algorithm not in ALGORITHMS:
        problems.append(Problem("signature.algorithm", "sha1, sha256 or sha512"))
    header = reader.header("header")
    if header is None:
        problems.append(Problem("signature.header", "names the signature header"))
    prefix = body.get("prefix", "")
    if not isinstance(prefix, str):
        problems.append(Problem("signature.prefix", "must be a string"))
        prefix = ""
    return Signature(kind, secret, header, str(algorithm), prefix)


def verify_signature(
    config: WebhookConfig,
    headers: Mapping[str, str],
    raw_body: bytes,
    secrets: SecretSource,
) -> None:
    """Raise SignatureRefused unless the delivery is signed as configured.

    ``headers`` are looked up by lower-case name. Every comparison takes
    constant time (hmac.compare_digest).
    """
    signature = config.signature
    if signature.kind is SignatureKind.NONE:
        return
    header = signature.header or _SIGNATURE_HEADERS[signature.kind]
    given = headers.get(header.lower())
    if not given:
        raise SignatureRefused(f"the {header} header is missing")
    secret = _secret(config, secrets)
    if signature.kind is SignatureKind.GITLAB:
        expected = secret
    else:
        algorithm = "sha256" if signature.kind is SignatureKind.GITHUB else None
        digest = hmac.new(
            secret.encode(), raw_body, ALGORITHMS[algorithm or signature.algorithm]
        ).hexdigest()
        prefix = "sha256=" if signature.kind is SignatureKind.GITHUB else ""
        expected = (prefix or signature.prefix) + digest
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureRefused(f"the {header} header does not match")


def _secret(config: WebhookConfig, secrets: SecretSource) -> str:
    """The signing secret; a missing one refuses every delivery (and says why)."""
    key = config.signature.secret or ""
    try:
        return secrets.reveal_secret(key)
    except NotFound:
        # The sender cannot fix this; the operator reads it in the log.
        logger.warning(
            "webhook %s: its signing secret %r is not a datastore secret; "
            "every delivery is refused",
            config.name,
            key,
        )
        raise SignatureRefused("the webhook's signing secret is not set") from None


def delivery_event(
    config: WebhookConfig,
    headers: Mapping[str, str],
    body: Any,
    event_id: str,
    now: datetime,
) -> Event:
    """The event a verified delivery becomes: its JSON body and the kept headers."""
    name = config.event
    if config.event_header:
        name = headers.get(config.event_header.lower()) or name
    kept = {
        header.lower(): headers[header.lower()]
        for header in config.keep_headers
        if header.lower() in headers
    }
    return Event(
        id=event_id,
        name=name,
        pack=config.pack_ref,
        created_at=now,
        received_at=now,
        payload={"body": body, "headers": kept},
    )


class WebhookIngest:
    """Store and queue a delivery's event, once per delivery id when there is one."""

    def __init__(
        self,
        stores: Stores,
        queue: WorkQueue,
        key_window: timedelta,
        *,
        make_id: Callable[[], str] = new_id,
    ) -> None:
        self._stores = stores
        self._queue = queue
        self._make_id = make_id
        self._keyed = KeyedIngest(stores, queue, key_window, make_id=make_id)

    def accept(
        self,
        config: WebhookConfig,
        headers: Mapping[str, str],
        body: Any,
        now: datetime,
    ) -> Event:
        """Stored and queued when this returns; a redelivery gets the first event."""
        event = delivery_event(config, headers, body, self._make_id(), now)
        delivery = (
            headers.get(config.delivery_header.lower())
            if config.delivery_header
            else None
        )
        if delivery:
            key = IdempotencyKey(delivery[:255], "application/json")
            # The fingerprint covers the body and the event's name, as signed.
            return self._keyed.accept(event, key, [event.name, body], now)
        self._stores.events.add(event, now)
        try:
            self._queue.send_event(event.id)
        except FlyteError:
            self._stores.events.delete(event.id)
            raise
        return event
