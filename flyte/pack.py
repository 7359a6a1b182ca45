"""Packs: the apps that send events and run actions; their model, id and liveness."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from enum import StrEnum
from typing import Any

from flyte.clock import from_millis
from flyte.clock import to_millis
from flyte.clock import to_stored_precision
from flyte.config import DEFAULT_MAX_LABELS
from flyte.contract.ids import pack_id as pack_id
from flyte.errors import InvalidPack
from flyte.errors import Problem
from flyte.event import PackRef
from flyte.schema import find_problems

#: Upstream rejects pack-level links whose rel matches this, unanchored (see
#: "Registration" in docs/upstream.md).
FORBIDDEN_PACK_REL = re.compile(r"up|self|/actionResult$|/takeAction$|/event$")
#: Pack status thresholds by time since last contact (boundaries exclusive).
WARNING_AFTER = timedelta(minutes=10)
CRITICAL_AFTER = timedelta(hours=24)


class PackStatus(StrEnum):
    """How recently a pack was heard from."""

    LIVE = "live"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class Link:
    """A HATEOAS link; ``rel`` is optional for pack-supplied links."""

    href: str
    rel: str = ""

    def to_dict(self) -> dict[str, str]:
        """Render as JSON, omitting an empty rel as upstream does."""
        return {"href": self.href, "rel": self.rel} if self.rel else {"href": self.href}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Link:
        """Build from a JSON object."""
        return cls(href=data.get("href") or "", rel=data.get("rel") or "")


@dataclass(frozen=True)
class CommandDef:
    """A command a pack can run, and the events its result may be."""

    name: str
    events: tuple[str, ...] | None = None
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class EventDef:
    """An event a pack may send."""

    name: str
    links: tuple[Link, ...] = ()


@dataclass(frozen=True)
class Pack:
    """A registered pack, identified by its name and labels."""

    id: str
    name: str
    last_seen: datetime
    labels: Mapping[str, str] = field(default_factory=dict)
    commands: tuple[CommandDef, ...] = ()
    events: tuple[EventDef, ...] = ()
    links: tuple[Link, ...] = ()

    def status(self, now: datetime) -> PackStatus:
        """Live, warning or critical by the time since ``last_seen``."""
        return status_of(self.last_seen, now)

    def ref(self) -> PackRef:
        """The short reference events and actions carry."""
        return PackRef(self.id, self.name, dict(self.labels))

    def to_document(self) -> dict[str, Any]:
        """The MongoDB document (upstream shape; lastSeen as epoch milliseconds)."""
        return {
            "_id": self.id,
            "name": self.name,
            "labels": dict(self.labels),
            "commands": [_command_document(c) for c in self.commands],
            "events": [
                {"name": e.name, "links": _links_document(e.links)} for e in self.events
            ],
            "lastSeen": to_millis(self.last_seen),
            "links": _links_document(self.links),
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Pack:
        """Rebuild a pack from its MongoDB document (or a projection of it)."""
        return cls(
            id=doc["_id"],
            name=doc.get("name", ""),
            last_seen=from_millis(doc["lastSeen"]),
            labels=doc.get("labels") or {},
            commands=_commands(doc.get("commands")),
            events=_events(doc.get("events")),
            links=_links(doc.get("links")),
        )


def too_many_labels(where: str, max_labels: int) -> Problem:
    """The problem of a label map above FLYTE_MAX_LABELS."""
    return Problem(where, f"more than {max_labels} labels")


def status_of(last_seen: datetime, now: datetime) -> PackStatus:
    """Classify the time since last contact: exactly 10 min is already warning."""
    silence = now - last_seen
    if silence < WARNING_AFTER:
        return PackStatus.LIVE
    if silence < CRITICAL_AFTER:
        return PackStatus.WARNING
    return PackStatus.CRITICAL


def parse_pack(
    body: Any, now: datetime, *, max_labels: int = DEFAULT_MAX_LABELS
) -> Pack:
    """Validate a registration body and build the pack; raises InvalidPack.

    Like upstream, ``id``, ``lastSeen`` and ``status`` in the body are ignored.
    """
    labels = body.get("labels") if isinstance(body, dict) else None
    if isinstance(labels, dict) and len(labels) > max_labels:
        raise InvalidPack([too_many_labels("$.labels", max_labels)])
    problems = find_problems(body, "pack")
    if not problems:
        problems = _forbidden_rels(body.get("links") or [])
    if problems:
        raise InvalidPack(problems)
    name = body.get("name") or ""
    labels = body.get("labels") or {}
    return Pack(
        id=pack_id(name, labels),
        name=name,
        # As stored, so POST's lastSeen reads as GET's will.
        last_seen=to_stored_precision(now),
        labels=labels,
        commands=_commands(body.get("commands")),
        events=_events(body.get("events")),
        links=_links(body.get("links")),
    )


def _forbidden_rels(links: list[Mapping[str, Any]]) -> list[Problem]:
    return [
        Problem(f"$.links[{i}].rel", f"rel {link['rel']!r} is reserved for Flyte")
        for i, link in enumerate(links)
        if FORBIDDEN_PACK_REL.search(link.get("rel") or "")
    ]


def _commands(raw: Any) -> tuple[CommandDef, ...]:
    return tuple(
        CommandDef(
            name=c.get("name") or "",
            events=None if c.get("events") is None else tuple(c["events"]),
            links=_links(c.get("links")),
        )
        for c in raw or ()
    )


def _events(raw: Any) -> tuple[EventDef, ...]:
    return tuple(
        EventDef(name=e.get("name") or "", links=_links(e.get("links")))
        for e in raw or ()
    )


def _links(raw: Any) -> tuple[Link, ...]:
    return tuple(Link.from_dict(link) for link in raw or ())


def _links_document(links: tuple[Link, ...]) -> list[dict[str, str]]:
    return [{"href": link.href, "rel": link.rel} for link in links]


def _command_document(command: CommandDef) -> dict[str, Any]:
    events = None if command.events is None else list(command.events)
    return {
        "name": command.name,
        "events": events,
        "links": _links_document(command.links),
    }
