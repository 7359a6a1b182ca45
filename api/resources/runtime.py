"""What packs call at run time: post events, take actions, post results.

Upstream's behaviour: docs/upstream.md#runtime-endpoints.
"""

from __future__ import annotations

import falcon

from api.links import Links
from api.media import read_body
from api.views import action_view
from api.views import event_path
from api.views import event_record_view
from flyte.idempotency import HEADER as IDEMPOTENCY_HEADER
from flyte.idempotency import IdempotencyKey
from flyte.runtime import PackRuntime
from flyte.store.events import EventStore


class PackEventsResource:
    """``POST /v1/packs/{pack_id}/events``: a pack reports something it saw."""

    def __init__(self, runtime: PackRuntime) -> None:
        self._runtime = runtime

    def on_post(self, req: falcon.Request, resp: falcon.Response, pack_id: str) -> None:
        """Store and queue the event; 202 with where to follow it.

        A repeat with the same ``Idempotency-Key`` answers like the first.
        """
        req.context.log_ids = {"pack_id": pack_id}
        header = req.get_header(IDEMPOTENCY_HEADER)
        key = None if header is None else IdempotencyKey.parse(header, req.content_type)
        event = self._runtime.post_event(pack_id, lambda: read_body(req), key)
        _accepted(req, resp, event.id)


class TakeActionResource:
    """``POST /v1/packs/{pack_id}/actions/take``: a pack asks for work."""

    def __init__(self, runtime: PackRuntime) -> None:
        self._runtime = runtime

    def on_post(self, req: falcon.Request, resp: falcon.Response, pack_id: str) -> None:
        """200 with the oldest takeable action, or 204 when there is none."""
        # Upstream reads `actionName`; its own links advertise `commandName`.
        command = req.get_param("actionName") or req.get_param("commandName")
        action = self._runtime.take(pack_id, command)
        if action is None:
            resp.status = falcon.HTTP_204
            return
        req.context.log_ids = {
            "action_id": action.id,
            "correlation_id": action.correlation_id,
        }
        resp.media = action_view(action, pack_id, Links.of(req))


class ActionResultResource:
    """``POST /v1/packs/{pack_id}/actions/{action_id}/result``: a pack reports back."""

    def __init__(self, runtime: PackRuntime) -> None:
        self._runtime = runtime

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, pack_id: str, action_id: str
    ) -> None:
        """Finish the action with the result event; 202."""
        req.context.log_ids = {"pack_id": pack_id, "action_id": action_id}
        result = self._runtime.post_result(pack_id, action_id, lambda: read_body(req))
        _accepted(req, resp, result.id)


class EventResource:
    """``GET /v1/events/{event_id}``: what happened to an event, and why."""

    def __init__(self, events: EventStore) -> None:
        self._events = events

    def on_get(self, req: falcon.Request, resp: falcon.Response, event_id: str) -> None:
        """The event, its status, and per flow the steps that fired or did not."""
        record = self._events.get(event_id)
        replays = self._events.find_replays(event_id)
        resp.media = event_record_view(record, Links.of(req), replays)


def _accepted(req: falcon.Request, resp: falcon.Response, event_id: str) -> None:
    """202, pointing at the page that will tell what the event did."""
    links = Links.of(req)
    resp.status = falcon.HTTP_202
    resp.location = links.href(event_path(event_id))
    resp.media = {"id": event_id, "links": [links.link(event_path(event_id), "self")]}
