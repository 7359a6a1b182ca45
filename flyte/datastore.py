"""Datastore items: reference data stored by key, read by flows with ``datastore()``.

An item is an opaque value (bytes) with the content type it was uploaded with and
an optional description. Values are global; there are no namespaces (as upstream).
An item can be secret (its value encrypted at rest, never served by a plain read:
see flyte/secrets.py) and can expire ``ttl`` seconds after it was stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flyte.errors import InvalidDatastoreItem
from flyte.errors import PayloadTooLarge
from flyte.errors import Problem

#: Upstream's content type for a value uploaded without one.
DEFAULT_CONTENT_TYPE = "text/plain; charset=us-ascii"
#: Longest TTL of an item: ten years (a longer one is a typo, not a plan).
MAX_TTL_SECONDS = 10 * 365 * 86400
#: type/subtype in RFC 6838 token characters, then optional parameters: the value
#: is served with it, so clients must be able to read it.
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_MEDIA_TYPE = re.compile(rf"^{_TOKEN}/{_TOKEN}\s*(;[\x20-\x7e\t]*)?$")


@dataclass(frozen=True)
class DatastoreItem:
    """One stored value; ``value`` is empty in list results, which leave it out.

    A secret item's ``value`` is its plaintext only between the upload and the
    store; read back, it is empty (``reveal_secret`` gives the plaintext).
    ``expires_at_ms`` is when the item stops existing (epoch milliseconds).
    """

    key: str
    content_type: str = DEFAULT_CONTENT_TYPE
    description: str = ""
    value: bytes = b""
    secret: bool = False
    expires_at_ms: int | None = None

    def to_document(self) -> dict[str, Any]:
        """The MongoDB document (upstream shape; the value stored as BinData)."""
        doc: dict[str, Any] = {
            "_id": self.key,
            "contentType": self.content_type,
            "description": self.description,
            "value": self.value,
        }
        # Only when set: a plain item keeps upstream's document shape.
        if self.secret:
            doc["secret"] = True
        if self.expires_at_ms is not None:
            doc["expiresAtMs"] = self.expires_at_ms
        return doc

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> DatastoreItem:
        """Rebuild an item from its document, or from a projection without value."""
        expires = doc.get("expiresAtMs")
        return cls(
            key=doc["_id"],
            content_type=doc.get("contentType") or DEFAULT_CONTENT_TYPE,
            description=doc.get("description") or "",
            value=bytes(doc.get("value") or b""),
            secret=bool(doc.get("secret")),
            expires_at_ms=int(expires) if expires is not None else None,
        )

    def is_expired(self, now_ms: int) -> bool:
        """True once the item's TTL has passed (reads never return it then)."""
        return self.expires_at_ms is not None and self.expires_at_ms <= now_ms


def new_item(
    key: str,
    value: bytes,
    content_type: str | None,
    description: str | None,
    max_bytes: int,
    *,
    secret: bool = False,
    ttl_seconds: int | None = None,
    now_ms: int = 0,
) -> DatastoreItem:
    """An item as uploaded; the value must be non-empty and at most ``max_bytes``.

    A missing or blank content type becomes upstream's default. With
    ``ttl_seconds`` the item expires that long after ``now_ms``.
    """
    if not value:
        raise InvalidDatastoreItem([Problem("value", "the value is empty")])
    if len(value) > max_bytes:
        raise PayloadTooLarge("the datastore value", max_bytes)
    content_type = (content_type or "").strip() or DEFAULT_CONTENT_TYPE
    if not _MEDIA_TYPE.match(content_type):
        problem = Problem(
            "value", f"the content type {content_type!r} is not a media type"
        )
        raise InvalidDatastoreItem([problem])
    if declares_json(content_type):
        _check_json(value)
    if secret:
        _check_text(value)
    return DatastoreItem(
        key=key,
        content_type=content_type,
        description=description or "",
        value=value,
        secret=secret,
        expires_at_ms=None if ttl_seconds is None else now_ms + ttl_seconds * 1000,
    )


def parse_secret_flag(raw: str | None) -> bool:
    """The form's ``secret`` field: true/false (1/0, yes/no); absent is false."""
    text = (raw or "").strip().lower()
    if text in ("", "false", "0", "no", "off"):
        return False
    if text in ("true", "1", "yes", "on"):
        return True
    raise InvalidDatastoreItem([Problem("secret", f"{raw!r} is not true or false")])


def parse_ttl(raw: str | None) -> int | None:
    """The form's ``ttl`` field: whole seconds, 1 up to ten years; absent is None."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        seconds = int(text)
    except ValueError as ex:
        problem = Problem("ttl", f"{raw!r} is not a whole number of seconds")
        raise InvalidDatastoreItem([problem]) from ex
    if not 1 <= seconds <= MAX_TTL_SECONDS:
        problem = Problem("ttl", f"{seconds} is outside 1..{MAX_TTL_SECONDS} seconds")
        raise InvalidDatastoreItem([problem])
    return seconds


def declares_json(content_type: str) -> bool:
    """True for any JSON media type: ``*/json`` or ``*/*+json``, parameters aside.

    Broader than the types ``datastore()`` parses (``application/json`` and
    ``text/json``, as upstream): whatever says JSON is served as JSON.
    """
    media_type = content_type.split(";")[0].strip().lower()
    subtype = media_type.partition("/")[2]
    return subtype == "json" or subtype.endswith("+json")


def _check_text(value: bytes) -> None:
    """A secret is text (a token, a password): flows and webhooks read it as such."""
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as ex:
        problem = Problem("value", "a secret value must be UTF-8 text")
        raise InvalidDatastoreItem([problem]) from ex


def _check_json(value: bytes) -> None:
    """A value declared JSON must be JSON: a flow would fail on it, later."""
    try:
        json.loads(value)
    except ValueError as ex:
        problem = Problem("value", f"the content type says JSON, but it is not: {ex}")
        raise InvalidDatastoreItem([problem]) from ex
