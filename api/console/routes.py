"""The console's URL map: every ``/console`` page and its resource, in one screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import falcon

from api.console.common import NotFoundSink
from api.console.overview import OverviewResource
from api.console.queues import add_queue_routes
from api.console.render import CONSOLE_PREFIX
from api.console.replay import add_replay_route

if TYPE_CHECKING:
    from api.app import Dependencies

#: The console's CSS and JS, served below /console/static/.
STATIC_DIR = Path(__file__).resolve().parent / "static"


def add_console_routes(
    app: falcon.App[falcon.Request, falcon.Response], deps: Dependencies
) -> None:
    """Attach every console page, its static files and its 404 page."""
    app.add_route(CONSOLE_PREFIX, OverviewResource(deps))
    add_queue_routes(app, deps)
    add_replay_route(app, deps)
    app.add_static_route(CONSOLE_PREFIX + "/static", str(STATIC_DIR))
    # Routes win over sinks, and Falcon tries sinks before static routes, so the
    # sink leaves /console/static/ alone and catches only unknown console paths.
    app.add_sink(NotFoundSink(), CONSOLE_PREFIX + "/(?!static/)")
