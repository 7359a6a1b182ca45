"""The Events pages: recent events with filters, and one event's outcomes explained."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import falcon

from api.console.common import html_not_found
from api.console.common import page_offset
from api.console.common import page_size
from api.console.common import render_list
from api.console.render import render
from flyte.store import Stores
from flyte.store.browse import Browse
from flyte.store.browse import EventFilter
from flyte.store.events import EventStatus

#: The query parameters the event list filters on, in the form's order.
FILTERS = ("pack", "name", "status", "since", "until")


class InvalidFilter(ValueError):
    """A filter of the event list cannot be read."""


class EventsPageResource:
    """``GET /console/events``: events newest first, filtered and paged."""

    def __init__(self, browse: Browse) -> None:
        self._browse = browse

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render one page of events, or the form with the filter's problem (400)."""
        query = {name: req.get_param(name) or "" for name in FILTERS}
        try:
            where = event_filter(query)
        except InvalidFilter as ex:
            render_list(
                req,
                resp,
                "events.html",
                query=query,
                page=None,
                problem=str(ex),
                title="Events",
                statuses=list(EventStatus),
            )
            return
        page = self._browse.events(where, page_offset(req), page_size(req))
        render_list(
            req,
            resp,
            "events.html",
            query=query,
            page=page,
            title="Events",
            statuses=list(EventStatus),
        )


class EventPageResource:
    """``GET /console/events/{event_id}``: every flow and step it fired or did not."""

    def __init__(self, stores: Stores) -> None:
        self._events = stores.events

    @html_not_found
    def on_get(self, req: falcon.Request, resp: falcon.Response, event_id: str) -> None:
        """Render the event, its outcomes and its replays."""
        record = self._events.get(event_id)
        render(
            req,
            resp,
            "event.html",
            title=f"Event {record.event.name}",
            record=record,
            replays=self._events.find_replays(event_id),
        )


def event_filter(query: dict[str, str]) -> EventFilter:
    """The store's filter from the form's fields; raise InvalidFilter."""
    status = query["status"]
    if status and status not in {s.value for s in EventStatus}:
        raise InvalidFilter(f"unknown status {status!r}")
    return EventFilter(
        pack_name=query["pack"],
        name=query["name"],
        status=status,
        since=parse_time("since", query["since"]),
        until=parse_time("until", query["until"]),
    )


def parse_time(field: str, text: str) -> datetime | None:
    """An ISO 8601 time (``2026-01-02T15:04``); UTC unless it names a zone."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as ex:
        raise InvalidFilter(
            f"{field}: {text!r} is not a time like 2026-01-02T15:04"
        ) from ex
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
