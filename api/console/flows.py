"""The Flows pages: every flow, and one flow drawn as a graph with its steps."""

from __future__ import annotations

import falcon

from api.console.common import html_not_found
from api.console.common import page_offset
from api.console.common import page_size
from api.console.graph import layout
from api.console.render import render
from flyte.errors import FlowNotFound
from flyte.flow import Flow
from flyte.store import Stores
from flyte.store.browse import Browse


class FlowsPageResource:
    """``GET /console/flows``: flows by name, paged."""

    def __init__(self, browse: Browse) -> None:
        self._browse = browse

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render one page of flows."""
        page = self._browse.flows(page_offset(req), page_size(req))
        render(req, resp, "flows.html", title="Flows", page=page)


class FlowPageResource:
    """``GET /console/flows/{name}``: the latest version, or ``?version=<uuid>``."""

    def __init__(self, stores: Stores, browse: Browse) -> None:
        self._flows = stores.flows
        self._browse = browse

    @html_not_found
    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Render the flow's graph, steps and versions."""
        versions = self._browse.flow_versions(name)
        flow = self._flow(name, req.get_param("version") or "")
        render(
            req,
            resp,
            "flow.html",
            title=f"Flow {name}",
            flow=flow,
            enabled=self._enabled(name),
            graph=layout(flow.steps),
            versions=versions,
        )

    def _enabled(self, name: str) -> bool:
        """The flow's state: its name's, not a version's (a deleted flow: none)."""
        try:
            return self._flows.get(name).enabled
        except FlowNotFound:
            return False

    def _flow(self, name: str, version: str) -> Flow:
        """The version asked for (of this flow), else the latest."""
        if version:
            flow = self._flows.get_version(version)
            if flow.name != name:
                raise FlowNotFound(version)
            return flow
        return self._flows.get(name)
