"""The URL map in one screen (Go flytepath): every route and its resource."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import falcon
import swagger_ui_bundle

#: (URI template, resource name) for every route; the OpenAPI test checks this list.
ROUTES: tuple[tuple[str, str], ...] = (
    ("/", "index"),
    ("/v1", "v1"),
    ("/health", "health"),
    ("/v1/swagger", "openapi"),
    ("/swagger", "swagger_ui"),
    ("/v1/packs", "packs"),
    ("/v1/packs/{pack_id}", "pack"),
    ("/v1/packs/{pack_id}/events", "pack_events"),
    ("/v1/packs/{pack_id}/actions/take", "take_action"),
    ("/v1/packs/{pack_id}/actions/{action_id}/result", "action_result"),
    ("/v1/events/{event_id}", "event"),
    ("/v1/events/{event_id}/replay", "replay_event"),
    ("/v1/audit/flows", "audit_flows"),
    ("/v1/audit/flows/{correlation_id}", "audit_flow"),
    ("/v1/flows", "flows"),
    ("/v1/flows/{name}", "flow"),
    ("/v1/flows/test", "flow_test"),
    ("/v1/flows/{name}/enabled", "flow_enabled"),
    ("/v1/datastore", "datastore"),
    ("/v1/datastore/{key}", "datastore_item"),
    ("/v1/datastore/{key}/secret-value", "datastore_secret_value"),
    ("/v1/secrets/rekey", "secrets_rekey"),
    ("/v1/webhooks", "webhooks"),
    ("/v1/webhooks/{name}", "webhook"),
    ("/v1/webhooks/{name}/config", "webhook_config"),
    ("/metrics", "metrics"),
)
#: Static Swagger UI assets, served below /swagger/.
SWAGGER_ASSETS_PREFIX = "/swagger"
#: Our own assets of the Swagger UI page (api/static), below /swagger/flyte/.
PAGE_ASSETS_PREFIX = "/swagger/flyte"
PAGE_ASSETS = Path(__file__).resolve().parent / "static"


def add_routes(
    app: falcon.App[falcon.Request, falcon.Response], resources: Mapping[str, object]
) -> None:
    """Attach every resource to its route; each GET route also answers HEAD."""
    for template, name in ROUTES:
        resource = resources[name]
        if hasattr(resource, "on_get") and not hasattr(resource, "on_head"):
            # Falcon drops the body of HEAD responses itself.
            resource.on_head = resource.on_get  # type: ignore[attr-defined]
        app.add_route(template, resource)
    app.add_static_route(SWAGGER_ASSETS_PREFIX, str(swagger_ui_bundle.swagger_ui_path))
    # Added last so that it wins: Falcon tries static routes newest first.
    app.add_static_route(PAGE_ASSETS_PREFIX, str(PAGE_ASSETS))
