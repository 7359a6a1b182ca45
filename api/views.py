"""Domain objects rendered as upstream's JSON shapes, with their links (Go view.go)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from api import links as docs
from api.links import Links
from flyte.action import Action
from flyte.clock import format_time
from flyte.clock import from_millis
from flyte.datastore import DatastoreItem
from flyte.flow import Flow
from flyte.pack import CommandDef
from flyte.pack import EventDef
from flyte.pack import Pack
from flyte.store.events import EventRecord


def pack_path(pack_id: str) -> str:
    """The API path of one pack."""
    return f"/v1/packs/{quote(pack_id, safe='')}"


def pack_view(pack: Pack, links: Links, now: datetime) -> dict[str, Any]:
    """One pack with its commands, events and links (docs/upstream.md#pack-response)."""
    path = pack_path(pack.id)
    body: dict[str, Any] = {"id": pack.id, "name": pack.name}
    if pack.labels:
        body["labels"] = dict(pack.labels)
    if pack.commands:
        body["commands"] = [_command_view(c, path, links) for c in pack.commands]
    if pack.events:
        body["events"] = [_event_view(e) for e in pack.events]
    body["lastSeen"] = format_time(pack.last_seen)
    body["status"] = pack.status(now).value
    body["links"] = [link.to_dict() for link in pack.links] + [
        links.link(path, "self"),
        links.link("/v1/packs", "up"),
        links.doc_link(f"{path}/actions/take", docs.TAKE_ACTION_DOC),
        links.doc_link(f"{path}/events", docs.EVENT_DOC),
    ]
    return body


def pack_list_view(packs: list[Pack], links: Links, now: datetime) -> dict[str, Any]:
    """The pack list envelope: summaries only, no commands or events, as upstream."""
    return {
        "links": [
            links.link("/v1/packs", "self"),
            links.link("/v1", "up"),
            {"href": links.doc(docs.PACKS_DOC), "rel": "help"},
        ],
        "packs": [_pack_summary(pack, links, now) for pack in packs],
    }


def _pack_summary(pack: Pack, links: Links, now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {"id": pack.id, "name": pack.name}
    if pack.labels:
        body["labels"] = dict(pack.labels)
    body["lastSeen"] = format_time(pack.last_seen)
    body["status"] = pack.status(now).value
    body["links"] = [links.link(pack_path(pack.id), "self")]
    return body


def _command_view(command: CommandDef, pack_path: str, links: Links) -> dict[str, Any]:
    # Upstream replaces the pack's own command links with the take link.
    take = f"{pack_path}/actions/take?commandName={quote(command.name, safe='')}"
    return {
        "name": command.name,
        "events": None if command.events is None else list(command.events),
        "links": [links.doc_link(take, docs.TAKE_ACTION_DOC)],
    }


def _event_view(event: EventDef) -> dict[str, Any]:
    body: dict[str, Any] = {"name": event.name}
    if event.links:
        body["links"] = [link.to_dict() for link in event.links]
    return body


def flow_path(name: str) -> str:
    """The API path of one flow."""
    return f"/v1/flows/{quote(name, safe='')}"


def flow_view(flow: Flow, links: Links) -> dict[str, Any]:
    """The latest version of a flow with its self, up and help links."""
    return {
        **flow.to_dict(),
        "links": [
            links.link(flow_path(flow.name), "self"),
            links.link("/v1/flows", "up"),
            {"href": links.doc(docs.FLOWS_DOC), "rel": "help"},
        ],
    }


def flow_list_view(flows: list[Flow], links: Links) -> dict[str, Any]:
    """The flow list, ``flows`` before ``links`` as upstream: names and descriptions."""
    items = []
    for flow in flows:
        item: dict[str, Any] = {"name": flow.name}
        if flow.description:
            item["description"] = flow.description
        if not flow.enabled:
            # Only paused flows carry it, so upstream's shape is unchanged otherwise.
            item["enabled"] = False
        item["links"] = [links.link(flow_path(flow.name), "self")]
        items.append(item)
    return {
        "flows": items,
        "links": [
            links.link("/v1/flows", "self"),
            links.link("/v1", "up"),
            {"href": links.doc(docs.FLOWS_DOC), "rel": "help"},
        ],
    }


def datastore_path(key: str) -> str:
    """The API path of one datastore item."""
    return f"/v1/datastore/{quote(key, safe='')}"


def datastore_list_view(items: list[DatastoreItem], links: Links) -> dict[str, Any]:
    """The datastore list, ``links`` before ``datastore`` as upstream: no values."""
    summaries = []
    for item in items:
        summary: dict[str, Any] = {"key": item.key, "contentType": item.content_type}
        if item.description:
            summary["description"] = item.description
        if item.secret:
            summary["secret"] = True
        if item.expires_at_ms is not None:
            summary["expiresAt"] = format_time(from_millis(item.expires_at_ms))
        summary["links"] = [links.link(datastore_path(item.key), "self")]
        summaries.append(summary)
    return {
        "links": [
            links.link("/v1/datastore", "self"),
            links.link("/v1", "up"),
            {"href": links.doc(docs.DATASTORE_DOC), "rel": "help"},
        ],
        "datastore": summaries,
    }


def event_path(event_id: str) -> str:
    """The API path of one stored event."""
    return f"/v1/events/{quote(event_id, safe='')}"


def action_view(action: Action, pack_id: str, links: Links) -> dict[str, Any]:
    """A taken action as upstream hands it to a pack: command, input, result link."""
    result = f"{pack_path(pack_id)}/actions/{quote(action.id, safe='')}/result"
    return {
        "command": action.name,
        "input": action.input,
        "links": [links.doc_link(result, docs.ACTION_RESULT_DOC)],
    }


def event_record_view(
    record: EventRecord, links: Links, replays: Sequence[str] = ()
) -> dict[str, Any]:
    """A stored event, its processing status and what it did in each flow.

    ``replays`` are the ids of the events replaying it, listed when there are any.
    """
    body: dict[str, Any] = {"id": record.event.id, **record.event.to_json()}
    body["status"] = record.status.value
    if record.reason:
        body["reason"] = record.reason
    if record.action_id is not None:
        body["actionId"] = record.action_id
    if record.replay_of is not None:
        body["replayOf"] = record.replay_of
    if replays:
        body["replays"] = list(replays)
    body["flows"] = [outcome.to_json() for outcome in record.outcomes]
    body["links"] = [links.link(event_path(record.event.id), "self")]
    return body
