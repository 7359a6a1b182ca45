"""Pack registration and lookup: /v1/packs and /v1/packs/{pack_id}.

Upstream's behaviour: docs/upstream.md#packs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import falcon

from api.links import Links
from api.media import read_body
from api.views import pack_list_view
from api.views import pack_path
from api.views import pack_view
from flyte.config import DEFAULT_MAX_LABELS
from flyte.pack import parse_pack
from flyte.runtime import PackRuntime
from flyte.store.packs import PackStore


class PacksResource:
    """``/v1/packs``: list and register packs."""

    def __init__(
        self,
        packs: PackStore,
        runtime: PackRuntime,
        clock: Callable[[], datetime],
        max_labels: int = DEFAULT_MAX_LABELS,
    ) -> None:
        self._packs = packs
        self._runtime = runtime
        self._clock = clock
        self._max_labels = max_labels

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List every pack, sorted by name."""
        resp.media = pack_list_view(
            self._packs.list_packs(), Links.of(req), self._clock()
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Register (or re-register) a pack; 201 with its links."""
        now = self._clock()
        pack = parse_pack(read_body(req), now, max_labels=self._max_labels)
        pack = self._runtime.register(pack)
        links = Links.of(req)
        resp.status = falcon.HTTP_201
        resp.location = links.href(pack_path(pack.id))
        resp.media = pack_view(pack, links, now)


class PackResource:
    """``/v1/packs/{pack_id}``: one pack."""

    def __init__(
        self, packs: PackStore, runtime: PackRuntime, clock: Callable[[], datetime]
    ) -> None:
        self._packs = packs
        self._runtime = runtime
        self._clock = clock

    def on_get(self, req: falcon.Request, resp: falcon.Response, pack_id: str) -> None:
        """Show the pack with its commands, events and links."""
        resp.media = pack_view(self._packs.get(pack_id), Links.of(req), self._clock())

    def on_delete(
        self, req: falcon.Request, resp: falcon.Response, pack_id: str
    ) -> None:
        """Remove the pack; its actions are left alone."""
        self._runtime.delete_pack(pack_id)
        resp.status = falcon.HTTP_204
