"""The Falcon application: ``create_app`` wires it, ``get_app`` builds it from env."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from importlib import resources
from typing import Any

import falcon
import redis
import yaml

from api.errors import add_error_handlers
from api.media import YAML_TYPE
from api.media import NegotiationMiddleware
from api.media import YamlHandler
from api.resources.info import HealthResource
from api.resources.info import IndexResource
from api.resources.info import OpenApiResource
from api.resources.info import SwaggerUiResource
from api.resources.info import V1Resource
from api.resources.packs import PackResource
from api.resources.packs import PacksResource
from api.routes import add_routes
from flyte.clock import utcnow
from flyte.config import Settings
from flyte.health import HealthCheck
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.logging import configure_logging
from flyte.store import Stores
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores

#: Redis answers health pings fast or not at all.
REDIS_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class Dependencies:
    """Everything the API needs from outside, injected so tests can build their own."""

    stores: Stores
    health_checks: Mapping[str, HealthCheck]
    clock: Callable[[], datetime] = field(default=utcnow)


def create_app(settings: Settings, deps: Dependencies) -> falcon.App:
    """Wire the resources, media handlers and error mapping; reads no environment."""
    app = falcon.App(middleware=[NegotiationMiddleware()])
    yaml_handler = YamlHandler()
    app.req_options.media_handlers[YAML_TYPE] = yaml_handler
    app.resp_options.media_handlers[YAML_TYPE] = yaml_handler
    add_error_handlers(app)
    add_routes(app, _resources(deps))
    return app


def build_app(settings: Settings) -> falcon.App:
    """Connect to the configured MongoDB and Redis and build the app."""
    db = connect(settings)
    ensure_indexes(db)
    redis_client = redis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
    )
    checks = {"mongo": mongo_check(db), "redis": redis_check(redis_client)}
    return create_app(
        settings, Dependencies(stores=open_stores(db), health_checks=checks)
    )


def get_app() -> falcon.App:
    """Entry point for WSGI servers (``waitress-serve --call api.app:get_app``)."""
    settings = Settings.from_env()
    configure_logging(settings)
    return build_app(settings)


def load_openapi() -> dict[str, Any]:
    """The OpenAPI document shipped with the package."""
    text = resources.files("api").joinpath("openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _resources(deps: Dependencies) -> dict[str, object]:
    packs = deps.stores.packs
    return {
        "index": IndexResource(),
        "v1": V1Resource(),
        "health": HealthResource(deps.health_checks),
        "openapi": OpenApiResource(load_openapi()),
        "swagger_ui": SwaggerUiResource(),
        "packs": PacksResource(packs, deps.clock),
        "pack": PackResource(packs, deps.clock),
    }
