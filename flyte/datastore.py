"""Datastore items: reference data stored by key, read by flows with ``datastore()``.

An item is an opaque value (bytes) with the content type it was uploaded with and
an optional description. Values are global; there are no namespaces (as upstream).
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
#: type/subtype in RFC 6838 token characters, then optional parameters: the value
#: is served with it, so clients must be able to read it.
_TOKEN = r"[A-Za-z0-9!#$&^_.+-]+"
_MEDIA_TYPE = re.compile(rf"^{_TOKEN}/{_TOKEN}\s*(;[\x20-\x7e\t]*)?$")


@dataclass(frozen=True)
class DatastoreItem:
    """One stored value; ``value`` is empty in list results, which leave it out."""

    key: str
    content_type: str = DEFAULT_CONTENT_TYPE
    description: str = ""
    value: bytes = b""

    def to_document(self) -> dict[str, Any]:
        """The MongoDB document (upstream shape; the value stored as BinData)."""
        return {
            "_id": self.key,
            "contentType": self.content_type,
            "description": self.description,
            "value": self.value,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> DatastoreItem:
        """Rebuild an item from its document, or from a projection without value."""
        return cls(
            key=doc["_id"],
            content_type=doc.get("contentType") or DEFAULT_CONTENT_TYPE,
            description=doc.get("description") or "",
            value=bytes(doc.get("value") or b""),
        )


def new_item(
    key: str,
    value: bytes,
    content_type: str | None,
    description: str | None,
    max_bytes: int,
) -> DatastoreItem:
    """An item as uploaded; the value must be non-empty and at most ``max_bytes``.

    A missing or blank content type becomes upstream's default.
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
    return DatastoreItem(
        key=key,
        content_type=content_type,
        description=description or "",
        value=value,
    )


def declares_json(content_type: str) -> bool:
    """True for any JSON media type: ``*/json`` or ``*/*+json``, parameters aside.

    Broader than the types ``datastore()`` parses (``application/json`` and
    ``text/json``, as upstream): whatever says JSON is served as JSON.
    """
    media_type = content_type.split(";")[0].strip().lower()
    subtype = media_type.partition("/")[2]
    return subtype == "json" or subtype.endswith("+json")


def _check_json(value: bytes) -> None:
    """A value declared JSON must be JSON: a flow would fail on it, later."""
    try:
        json.loads(value)
    except ValueError as ex:
        problem = Problem("value", f"the content type says JSON, but it is not: {ex}")
        raise InvalidDatastoreItem([problem]) from ex
