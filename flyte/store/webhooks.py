"""WebhookStore: webhook configurations (``webhook``), one document per name."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from flyte.store.mongo import translate_errors
from flyte.webhooks import WebhookConfig
from flyte.webhooks import WebhookNotFound
from flyte.webhooks import parse_config

#: The collection of webhook configurations.
COLLECTION = "webhook"


class WebhookStore:
    """Put, read, list and delete webhook configurations."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._webhooks = db[COLLECTION]

    @translate_errors
    def put(self, config: WebhookConfig) -> bool:
        """Insert or wholly replace the configuration; True if it was new."""
        result = self._webhooks.replace_one(
            {"_id": config.name}, {"_id": config.name, **config.to_json()}, upsert=True
        )
        return result.upserted_id is not None

    @translate_errors
    def get(self, name: str) -> WebhookConfig:
        """The configuration, or raise WebhookNotFound."""
        doc = self._webhooks.find_one({"_id": name})
        if doc is None:
            raise WebhookNotFound(name)
        return _config(doc)

    @translate_errors
    def list_configs(self) -> list[WebhookConfig]:
        """Every configuration, by name."""
        cursor = self._webhooks.find({}).sort("_id", ASCENDING)
        return [_config(doc) for doc in cursor]

    @translate_errors
    def delete(self, name: str) -> None:
        """Remove the configuration, or raise WebhookNotFound."""
        if self._webhooks.delete_one({"_id": name}).deleted_count == 0:
            raise WebhookNotFound(name)


def _config(doc: dict[str, Any]) -> WebhookConfig:
    """Rebuild a stored configuration (stored only once it had parsed)."""
    name = doc.pop("_id")
    return parse_config(name, {k: v for k, v in doc.items() if v is not None})
