"""The template engine built from Settings, and flow functions that read stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flyte.config import Settings
from flyte.errors import DatastoreItemNotFound
from flyte.errors import Unavailable
from flyte.masking import MASKED
from flyte.store.datastore import DatastoreStore
from templates import TemplateEngine
from templates import make_datastore_function
from templates import make_secret_function


def build_engine(settings: Settings) -> TemplateEngine:
    """A sandboxed template engine with the configured output and time limits.

    A storage outage inside a render (``datastore()``) escapes as Unavailable, so
    the worker retries the event instead of recording a template error.
    """
    return TemplateEngine(
        max_output_bytes=settings.template_max_output_bytes,
        max_render_seconds=settings.template_timeout_ms / 1000,
        propagate=(Unavailable,),
    )


def template_functions(
    datastore: DatastoreStore, *, mask_secrets: bool = False
) -> dict[str, Callable[..., Any]]:
    """The flow functions that need storage: ``datastore(key)`` and ``secret(key)``.

    ``secret()`` reveals through the store, which remembers the value so the
    audit copy of an action input that contains it is masked. With
    ``mask_secrets`` (a dry run, whose rendering is shown to its caller) it
    returns ``********`` for an existing secret and never decrypts it.
    """

    def get_item(key: str) -> tuple[bytes, str] | None:
        try:
            item = datastore.get(key)
        except DatastoreItemNotFound:
            return None
        if item.secret:
            raise LookupError(
                f"datastore item key={key} is a secret: read it with secret('{key}')"
            )
        return item.value, item.content_type

    def reveal(key: str) -> str | None:
        try:
            if mask_secrets:
                return MASKED if datastore.get(key).secret else None
            return datastore.reveal_secret(key)
        except DatastoreItemNotFound:
            return None

    return {
        "datastore": make_datastore_function(get_item),
        "secret": make_secret_function(reveal),
    }
