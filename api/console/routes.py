"""The console's URL map: every ``/console`` page and its resource, in one screen."""

from __future__ import annotations

from pathlib import Path

import falcon

from api.console.common import NotFoundSink
from api.console.datastore import DatastoreItemPageResource
from api.console.datastore import DatastorePageResource
from api.console.deps import ConsoleDependencies
from api.console.events import EventPageResource
from api.console.events import EventsPageResource
from api.console.executions import ExecutionPageResource
from api.console.executions import ExecutionsPageResource
from api.console.flows import FlowPageResource
from api.console.flows import FlowsPageResource
from api.console.overview import Overview
from api.console.overview import OverviewJsonResource
from api.console.overview import OverviewResource
from api.console.packs import PackPageResource
from api.console.packs import PacksPageResource
from api.console.queues import add_queue_routes
from api.console.render import CONSOLE_PREFIX
from api.console.replay import add_replay_route
from flyte.audit import Audit
from flyte.replay import Replays
from flyte.store.browse import Browse

#: The console's CSS and JS, served below /console/static/.
STATIC_DIR = Path(__file__).resolve().parent / "static"


def add_console_routes(
    app: falcon.App[falcon.Request, falcon.Response], deps: ConsoleDependencies
) -> None:
    """Attach every console page, its static files and its 404 page."""
    overview = Overview(deps)
    browse = Browse(deps.stores.db)
    pages: dict[str, object] = {
        "": OverviewResource(overview),
        "/overview.json": OverviewJsonResource(overview),
        "/packs": PacksPageResource(browse, deps.clock),
        "/packs/{pack_id}": PackPageResource(deps.stores, browse, deps.clock),
        "/flows": FlowsPageResource(browse),
        "/flows/{name}": FlowPageResource(deps.stores, browse),
        "/events": EventsPageResource(browse),
        "/events/{event_id}": EventPageResource(deps.stores),
        "/executions": ExecutionsPageResource(browse),
        "/executions/{correlation_id}": ExecutionPageResource(Audit(deps.stores)),
        "/datastore": DatastorePageResource(browse),
        "/datastore/{key}": DatastoreItemPageResource(deps.stores),
    }
    for path, resource in pages.items():
        # As the API's routes: HEAD answers like GET, without the body.
        resource.on_head = resource.on_get  # type: ignore[attr-defined]
        app.add_route(CONSOLE_PREFIX + path, resource)
    add_queue_routes(app, deps.queues)
    add_replay_route(app, Replays(deps.stores, deps.queue, clock=deps.clock))
    app.add_static_route(CONSOLE_PREFIX + "/static", str(STATIC_DIR))
    # Routes win over sinks, and Falcon tries sinks before static routes, so the
    # sink leaves /console/static/ alone and catches only unknown console paths.
    app.add_sink(NotFoundSink(), CONSOLE_PREFIX + "/(?!static/)")
