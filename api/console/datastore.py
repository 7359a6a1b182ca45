"""The Datastore pages: items by key, and one item's value shown safely."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import falcon

from api.console.common import html_not_found
from api.console.common import page_offset
from api.console.common import page_size
from api.console.render import render
from flyte.datastore import DatastoreItem
from flyte.masking import MASKED
from flyte.store import Stores
from flyte.store.browse import Browse

#: Content types shown as text (besides text/*), before any charset parameter.
TEXT_TYPES = frozenset(
    {"application/xml", "application/yaml", "application/x-yaml", "application/toml"}
)
#: Longest value shown whole; a longer one is cut (its size is still shown).
MAX_SHOWN_BYTES = 256 * 1024


@dataclass(frozen=True)
class ShownValue:
    """How an item's value is shown: ``json``, ``text``, ``binary`` or ``secret``."""

    kind: str
    size: int
    text: str = ""
    data: Any = None
    cut: bool = False


def shown_value(item: DatastoreItem) -> ShownValue:
    """JSON pretty-printed, text as text (escaped by the template), else type+size.

    A secret is only ever shown as the mask (its value is not even read here).
    """
    if item.secret:
        return ShownValue("secret", 0, text=MASKED)
    media = item.content_type.split(";")[0].strip().lower()
    size = len(item.value)
    head = item.value[:MAX_SHOWN_BYTES]
    cut = size > MAX_SHOWN_BYTES
    if (media == "application/json" or media.endswith("+json")) and not cut:
        try:
            return ShownValue("json", size, data=json.loads(item.value))
        except ValueError:
            pass
    if media.startswith("text/") or media in TEXT_TYPES or media.endswith("json"):
        return ShownValue("text", size, text=head.decode("utf-8", "replace"), cut=cut)
    return ShownValue("binary", size)


class DatastorePageResource:
    """``GET /console/datastore``: items by key, paged."""

    def __init__(self, browse: Browse) -> None:
        self._browse = browse

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render one page of items."""
        page = self._browse.datastore(page_offset(req), page_size(req))
        render(req, resp, "datastore.html", title="Datastore", page=page)


class DatastoreItemPageResource:
    """``GET /console/datastore/{key}``: one item and its value."""

    def __init__(self, stores: Stores) -> None:
        self._items = stores.datastore

    @html_not_found
    def on_get(self, req: falcon.Request, resp: falcon.Response, key: str) -> None:
        """Render the item."""
        item = self._items.get(key)
        render(
            req,
            resp,
            "datastore_item.html",
            title=f"Datastore item {key}",
            item=item,
            value=shown_value(item),
        )
