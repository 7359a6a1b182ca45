"""The Packs pages: every pack with its status, and one pack with its actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import falcon

from api.console.common import html_not_found
from api.console.common import page_offset
from api.console.common import page_size
from api.console.render import render
from flyte.store import Stores
from flyte.store.browse import Browse

#: Waiting and in-flight actions a pack page lists, each.
PACK_ACTIONS_LISTED = 50


class PacksPageResource:
    """``GET /console/packs``: packs by name, paged."""

    def __init__(self, browse: Browse, clock: Callable[[], datetime]) -> None:
        self._browse = browse
        self._clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render one page of packs."""
        page = self._browse.packs(page_offset(req), page_size(req))
        render(req, resp, "packs.html", title="Packs", page=page, now=self._clock())


class PackPageResource:
    """``GET /console/packs/{pack_id}``: a pack, its waiting and in-flight actions."""

    def __init__(
        self, stores: Stores, browse: Browse, clock: Callable[[], datetime]
    ) -> None:
        self._packs = stores.packs
        self._browse = browse
        self._clock = clock

    @html_not_found
    def on_get(self, req: falcon.Request, resp: falcon.Response, pack_id: str) -> None:
        """Render the pack."""
        pack = self._packs.get(pack_id)
        render(
            req,
            resp,
            "pack.html",
            title=f"Pack {pack.name}",
            pack=pack,
            now=self._clock(),
            waiting=self._browse.waiting_actions(pack.name, PACK_ACTIONS_LISTED),
            pending=self._browse.pending_actions(pack.name, PACK_ACTIONS_LISTED),
            listed=PACK_ACTIONS_LISTED,
        )
