"""Webhook ingress: deliveries from outside systems, and the webhooks' configuration.

How to set one up: docs/webhooks.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon

from api.links import Links
from api.media import BodyLimits
from api.media import parse_json
from api.media import read_body
from api.views import event_path
from flyte.errors import PayloadTooLarge
from flyte.metrics import Metrics
from flyte.store.webhooks import WebhookStore
from flyte.webhooks import SecretSource
from flyte.webhooks import WebhookIngest
from flyte.webhooks import parse_config
from flyte.webhooks import verify_signature


class WebhookResource:
    """``POST /v1/webhooks/{name}``: a delivery from GitHub, GitLab or any sender."""

    def __init__(
        self,
        webhooks: WebhookStore,
        secrets: SecretSource,
        ingest: WebhookIngest,
        clock: Callable[[], datetime],
        metrics: Metrics,
    ) -> None:
        self._webhooks = webhooks
        self._secrets = secrets
        self._ingest = ingest
        self._clock = clock
        self._metrics = metrics

    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Check the signature, then store and queue the event; 202 with its link.

        The signature is checked over the raw body before it is parsed.
        """
        req.context.log_ids = {"webhook": name}
        # Counted as kind "webhook": accepted, or refused by reason
        # (signature_refused, webhook_not_found, payload_too_large, ...).
        with self._metrics.counting_event("webhook"):
            config = self._webhooks.get(name)
            limits: BodyLimits = req.context.get("body_limits") or BodyLimits()
            raw = _read_raw(req, limits)
            headers = {key.lower(): value for key, value in req.headers.items()}
            verify_signature(config, headers, raw, self._secrets)
            body = parse_json(raw, limits) if raw.strip() else None
            event = self._ingest.accept(config, headers, body, self._clock())
        links = Links.of(req)
        resp.status = falcon.HTTP_202
        resp.location = links.href(event_path(event.id))
        resp.media = {
            "id": event.id,
            "links": [links.link(event_path(event.id), "self")],
        }


def _read_raw(req: falcon.Request, limits: BodyLimits) -> bytes:
    """The body's bytes, refused (413) above the limit events have."""
    if req.content_length is not None and req.content_length > limits.max_bytes:
        raise PayloadTooLarge("the request body", limits.max_bytes)
    # One byte past the limit tells "too large" without reading the rest.
    raw: bytes = req.bounded_stream.read(limits.max_bytes + 1)
    if len(raw) > limits.max_bytes:
        raise PayloadTooLarge("the request body", limits.max_bytes)
    return raw


class WebhooksResource:
    """``GET /v1/webhooks``: every configured webhook."""

    def __init__(self, webhooks: WebhookStore) -> None:
        self._webhooks = webhooks

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The configurations, by name, each with its delivery URL."""
        links = Links.of(req)
        resp.media = {
            "webhooks": [
                _view(config.to_json(), links)
                for config in self._webhooks.list_configs()
            ]
        }


class WebhookConfigResource:
    """``PUT|GET|DELETE /v1/webhooks/{name}/config``: one webhook's configuration."""

    def __init__(self, webhooks: WebhookStore) -> None:
        self._webhooks = webhooks

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Create (201) or replace (200) the configuration; JSON or YAML."""
        config = parse_config(name, read_body(req))
        created = self._webhooks.put(config)
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.media = _view(config.to_json(), Links.of(req))

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """The configuration (secrets appear only by their datastore key)."""
        resp.media = _view(self._webhooks.get(name).to_json(), Links.of(req))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Remove it; deliveries then get 404. 204."""
        self._webhooks.delete(name)
        resp.status = falcon.HTTP_204


def _view(config: dict[str, Any], links: Links) -> dict[str, Any]:
    name = config["name"]
    return {
        **config,
        "links": [
            links.link(f"/v1/webhooks/{name}", "deliver"),
            links.link(f"/v1/webhooks/{name}/config", "self"),
        ],
    }
