"""Events: what packs post (and what action results become), and how they parse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from flyte.clock import format_time
from flyte.clock import from_millis
from flyte.clock import to_millis
from flyte.errors import InvalidEvent
from flyte.schema import find_problems
from flyte.schema import parse_rfc3339

#: The event name that marks an action as failed.
FATAL = "FATAL"


@dataclass(frozen=True)
class PackRef:
    """The pack an event came from."""

    id: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """Stored shape, with upstream's BSON key ``_id`` for the pack id."""
        return {"_id": self.id, "name": self.name, "labels": dict(self.labels)}

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> PackRef:
        """Rebuild from the stored shape."""
        return cls(doc["_id"], doc["name"], doc.get("labels") or {})


@dataclass(frozen=True)
class Event:
    """Something a pack saw, or the result of an action it ran."""

    id: str
    name: str
    pack: PackRef
    created_at: datetime
    received_at: datetime
    payload: Any = None

    @property
    def is_fatal(self) -> bool:
        """True for the event that reports a failed action."""
        return self.name == FATAL

    def template_context(self) -> dict[str, Any]:
        """The ``Event`` variable of templates, with upstream's (Go) field names."""
        return {
            "Name": self.name,
            "Payload": self.payload,
            "Pack": {
                "Id": self.pack.id,
                "Name": self.pack.name,
                "Labels": dict(self.pack.labels),
            },
            "CreatedAt": format_time(self.created_at),
            "ReceivedAt": format_time(self.received_at),
        }

    def to_json(self) -> dict[str, Any]:
        """Upstream's JSON shape of an event (audit ``trigger`` and ``result``)."""
        pack: dict[str, Any] = {"id": self.pack.id, "name": self.pack.name}
        if self.pack.labels:
            pack["labels"] = dict(self.pack.labels)
        body: dict[str, Any] = {"event": self.name, "pack": pack}
        if self.payload is not None:
            body["payload"] = self.payload
        body["createdAt"] = format_time(self.created_at)
        body["receivedAt"] = format_time(self.received_at)
        return body

    def to_document(self) -> dict[str, Any]:
        """The stored shape (upstream's BSON keys; times as epoch milliseconds)."""
        return {
            "id": self.id,
            "name": self.name,
            "pack": self.pack.to_document(),
            "payload": self.payload,
            "createdAt": to_millis(self.created_at),
            "receivedAt": to_millis(self.received_at),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Event:
        """Rebuild an event from its stored shape."""
        return cls(
            id=doc["id"],
            name=doc["name"],
            pack=PackRef.from_document(doc["pack"]),
            payload=doc.get("payload"),
            created_at=from_millis(doc["createdAt"]),
            received_at=from_millis(doc["receivedAt"]),
        )


def parse_event(body: Any, event_id: str, pack: PackRef, now: datetime) -> Event:
    """Validate an event body ``{event, payload?, createdAt?}``; raise InvalidEvent.

    Like upstream, a ``pack`` key in the body is ignored: the URL says which pack
    sent it, and ``createdAt`` defaults to the time it was received.
    """
    problems = find_problems(body, "event")
    if problems:
        raise InvalidEvent(problems)
    created = body.get("createdAt")
    return Event(
        id=event_id,
        name=body["event"],
        pack=pack,
        payload=body.get("payload"),
        created_at=now if created is None else parse_rfc3339(created),
        received_at=now,
    )
