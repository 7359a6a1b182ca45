"""The Queues pages: the broker's queues, their messages, and dead-letter repair.

Everything is read and repaired through ``deps.queues`` (the QueueInspector
seam); without one (a broker Flyte cannot inspect) the pages say so.

Stable hooks for browser tests:

- ``/console/queues``: ``table#queues`` with one ``tr.row`` per queue
  (``data-queue="<name>"``; cells ``td.ready``, ``td.delayed``, ``td.dead``,
  ``td.in-flight``); ``table#workers`` with one ``tr.row`` per broker process
  (``data-worker="<id>"``) and its in-flight messages in ``ul.in-flight``;
  ``id="no-inspector"`` when the broker cannot be inspected.
- ``/console/queues/<name>``: state tabs ``a.state-tab`` (``data-state``);
  ``table#messages`` with one ``tr.row`` per message (``data-message-id``),
  ``td.actor``, ``td.args``, ``td.retries``, ``pre.last-error``; on the dead
  tab ``form.requeue`` and ``form.delete`` per row and ``form#requeue-all``;
  ``id="notice"`` after a repair.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote
from urllib.parse import urlencode

import falcon

from api.console.common import html_not_found
from api.console.common import page_size
from api.console.common import render_not_found
from api.console.render import CONSOLE_PREFIX
from api.console.render import render
from flyte.queue_inspection import MessageState
from flyte.queue_inspection import QueueInspector

QUEUES_PATH = CONSOLE_PREFIX + "/queues"
#: The states a queue's page lists, in tab order.
LISTED_STATES = (MessageState.READY, MessageState.DELAYED, MessageState.DEAD)
#: What a page says after a repair; the redirect names one of these keys.
NOTICES: Mapping[str, str] = {
    "requeued": "The message was sent back to its queue.",
    "deleted": "The message was deleted.",
    "gone": "That message was no longer dead-lettered: "
    "someone requeued or deleted it meanwhile, or it expired.",
    "requeued-all": "Requeued {count} dead-lettered message(s).",
}


def queue_path(queue: str, **query: str | int) -> str:
    """The console page of ``queue``, with ``query`` parameters."""
    path = f"{QUEUES_PATH}/{quote(queue, safe='')}"
    return f"{path}?{urlencode(query)}" if query else path


class QueuesResource:
    """``GET /console/queues``: every queue's depths, and what each worker holds."""

    def __init__(self, inspector: QueueInspector | None) -> None:
        self._inspector = inspector

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the queues and the workers."""
        if self._inspector is None:
            render(req, resp, "queues.html", title="Queues", inspectable=False)
            return
        render(
            req,
            resp,
            "queues.html",
            title="Queues",
            inspectable=True,
            depths=self._inspector.depths(),
            workers=self._inspector.workers(),
            queue_path=queue_path,
        )


class QueueResource:
    """``GET /console/queues/{queue_name}``: one page of a queue's messages."""

    def __init__(self, inspector: QueueInspector | None) -> None:
        self._inspector = inspector

    @html_not_found
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, queue_name: str
    ) -> None:
        """Render the messages of the state asked (``?state=``), paged."""
        if self._inspector is None:
            render_not_found(req, resp, f"queue {queue_name!r} (no queue view)")
            return
        state = _state(req.get_param("state"))
        offset = req.get_param_as_int("offset", min_value=0, default=0) or 0
        limit = page_size(req)
        page = self._inspector.messages(queue_name, state, offset, limit)
        counts = _counts(self._inspector, queue_name)
        notice = NOTICES.get(req.get_param("notice") or "", "")
        count = req.get_param_as_int("count", min_value=0, default=0) or 0
        render(
            req,
            resp,
            "queues_detail.html",
            title=f"Queue {queue_name}",
            queue=queue_name,
            state=state.value,
            states=[s.value for s in LISTED_STATES],
            counts=counts,
            page=page,
            notice=notice.format(count=count),
            queue_path=queue_path,
            next_offset=_next_offset(page.total, offset, limit, len(page.messages)),
        )


class DeadMessageResource:
    """``POST .../dead/{message_id}/requeue`` and ``.../delete``: repair one message."""

    def __init__(self, inspector: QueueInspector | None) -> None:
        self._inspector = inspector

    def on_post_requeue(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        queue_name: str,
        message_id: str,
    ) -> None:
        """Send the dead message back to its queue, then show the dead letters."""
        inspector = self._need(queue_name)
        done = inspector.requeue_dead(queue_name, message_id)
        _back(queue_name, "requeued" if done else "gone")

    def on_post_delete(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        queue_name: str,
        message_id: str,
    ) -> None:
        """Drop the dead message, then show the dead letters."""
        inspector = self._need(queue_name)
        done = inspector.delete_dead(queue_name, message_id)
        _back(queue_name, "deleted" if done else "gone")

    def _need(self, queue_name: str) -> QueueInspector:
        if self._inspector is None:
            raise falcon.HTTPNotFound(
                description=f"queue {queue_name!r}: this broker has no queue view"
            )
        return self._inspector


class RequeueAllDeadResource:
    """``POST /console/queues/{queue_name}/dead/requeue-all``."""

    def __init__(self, inspector: QueueInspector | None) -> None:
        self._inspector = inspector

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, queue_name: str
    ) -> None:
        """Requeue every dead-lettered message of the queue, then show the rest."""
        if self._inspector is None:
            raise falcon.HTTPNotFound(
                description=f"queue {queue_name!r}: this broker has no queue view"
            )
        count = self._inspector.requeue_all_dead(queue_name)
        _back(queue_name, "requeued-all", count=count)


def add_queue_routes(
    app: falcon.App[falcon.Request, falcon.Response],
    inspector: QueueInspector | None,
) -> None:
    """Attach the Queues pages and their repair forms, reading ``inspector``."""
    dead = DeadMessageResource(inspector)
    app.add_route(QUEUES_PATH, QueuesResource(inspector))
    app.add_route(QUEUES_PATH + "/{queue_name}", QueueResource(inspector))
    message = QUEUES_PATH + "/{queue_name}/dead/{message_id}"
    app.add_route(message + "/requeue", dead, suffix="requeue")
    app.add_route(message + "/delete", dead, suffix="delete")
    app.add_route(
        QUEUES_PATH + "/{queue_name}/dead/requeue-all",
        RequeueAllDeadResource(inspector),
    )


def _back(queue_name: str, notice: str, **extra: int) -> None:
    """303 to the queue's dead letters, saying what was done (POST/redirect/GET)."""
    raise falcon.HTTPSeeOther(
        queue_path(queue_name, state=MessageState.DEAD.value, notice=notice, **extra)
    )


def _counts(inspector: QueueInspector, queue_name: str) -> dict[str, int | None]:
    """How many messages the queue holds per listed state (for the tabs)."""
    for depth in inspector.depths():
        if depth.name == queue_name:
            return {
                MessageState.READY.value: depth.ready,
                MessageState.DELAYED.value: depth.delayed,
                MessageState.DEAD.value: depth.dead,
            }
    return {}


def _state(value: str | None) -> MessageState:
    """The listed state asked for; ready when absent or not a listed state."""
    for state in LISTED_STATES:
        if value == state.value:
            return state
    return MessageState.READY


def _next_offset(total: int | None, offset: int, limit: int, shown: int) -> int | None:
    """Where the next page starts, or None on the last page."""
    if total is None:
        return offset + limit if shown >= limit else None
    return offset + limit if offset + limit < total else None
