"""The console's Replay button: ``POST /console/events/{event_id}/replay``."""

from __future__ import annotations

from urllib.parse import quote

import falcon

from api.console.common import html_not_found
from api.console.render import CONSOLE_PREFIX
from flyte.replay import Replays


class ReplayEventPageResource:
    """Replay a stored event, then open the new event's page (POST/redirect/GET)."""

    def __init__(self, replays: Replays) -> None:
        self._replays = replays

    @html_not_found
    def on_post(
        self, req: falcon.Request, resp: falcon.Response, event_id: str
    ) -> None:
        """303 to the replay's page; the console's 404 page for an unknown event."""
        req.context.log_ids = {"event_id": event_id}
        replay = self._replays.replay(event_id)
        raise falcon.HTTPSeeOther(
            f"{CONSOLE_PREFIX}/events/{quote(replay.id, safe='')}"
        )


def add_replay_route(
    app: falcon.App[falcon.Request, falcon.Response], replays: Replays
) -> None:
    """Attach the Replay button's target."""
    app.add_route(
        CONSOLE_PREFIX + "/events/{event_id}/replay", ReplayEventPageResource(replays)
    )
