"""``POST /v1/events/{event_id}/replay``: an operator sends a stored event again."""

from __future__ import annotations

import falcon

from api.links import Links
from api.views import event_path
from flyte.replay import Replays


class ReplayEventResource:
    """Store and queue a copy of a stored event, marked as a replay of it."""

    def __init__(self, replays: Replays) -> None:
        self._replays = replays

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, event_id: str
    ) -> None:
        """202 pointing at the new event, as for a posted event; 404 if unknown."""
        req.context.log_ids = {"event_id": event_id}
        replay = self._replays.replay(event_id)
        links = Links.of(req)
        resp.status = falcon.HTTP_202
        resp.location = links.href(event_path(replay.id))
        resp.media = {
            "id": replay.id,
            "replayOf": event_id,
            "links": [links.link(event_path(replay.id), "self")],
        }
