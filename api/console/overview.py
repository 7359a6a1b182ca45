"""The Overview page: the health of the system at a glance, refreshed by polling."""

from __future__ import annotations

from typing import TYPE_CHECKING

import falcon

from api.console.render import render

if TYPE_CHECKING:
    from api.app import Dependencies


class OverviewResource:
    """``GET /console``: health, counts and the latest failures."""

    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the overview."""
        render(req, resp, "overview.html", title="Overview")
