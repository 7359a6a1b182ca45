"""The Falcon application: ``create_app`` wires it, ``get_app`` builds it from env."""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from importlib import resources
from typing import Any

import falcon
import yaml

from api.console.flow_test import add_flow_test_route
from api.console.routes import add_console_routes
from api.console.security import ConsoleSecurityMiddleware
from api.console.security import add_sign_in_routes
from api.errors import add_error_handlers
from api.escaped_slashes import EscapedSlashMiddleware
from api.media import YAML_TYPE
from api.media import BodyLimits
from api.media import BodyLimitsMiddleware
from api.media import NegotiationMiddleware
from api.media import YamlHandler
from api.metrics import MetricsMiddleware
from api.metrics import MetricsResource
from api.middleware import AuthMiddleware
from api.resources.audit import AuditFlowResource
from api.resources.audit import AuditFlowsResource
from api.resources.datastore import DatastoreItemResource
from api.resources.datastore import DatastoreResource
from api.resources.datastore import DatastoreSecretValueResource
from api.resources.datastore import SecretsRekeyResource
from api.resources.flow_test import FlowTestResource
from api.resources.flows import FlowEnabledResource
from api.resources.flows import FlowResource
from api.resources.flows import FlowsResource
from api.resources.info import HealthResource
from api.resources.info import IndexResource
from api.resources.info import OpenApiResource
from api.resources.info import SwaggerUiResource
from api.resources.info import V1Resource
from api.resources.packs import PackResource
from api.resources.packs import PacksResource
from api.resources.replay import ReplayEventResource
from api.resources.runtime import ActionResultResource
from api.resources.runtime import EventResource
from api.resources.runtime import PackEventsResource
from api.resources.runtime import TakeActionResource
from api.resources.webhooks import WebhookConfigResource
from api.resources.webhooks import WebhookResource
from api.resources.webhooks import WebhooksResource
from api.routes import add_routes
from flyte.audit import Audit
from flyte.auth import Auth
from flyte.auth import load_auth
from flyte.clock import utcnow
from flyte.config import Settings
from flyte.dry_run import DryRun
from flyte.engine import StepEvaluator
from flyte.flow import SyntaxCheck
from flyte.flow_stamp import RedisFlowStamp
from flyte.health import HealthCheck
from flyte.health import health_redis_client
from flyte.health import mongo_check
from flyte.logging import configure_logging
from flyte.metrics import Metrics
from flyte.metrics import get_metrics
from flyte.metrics import prepare_multiprocess_dir
from flyte.queue import WorkQueue
from flyte.queue_inspection import QueueInspector
from flyte.replay import Replays
from flyte.runtime import Leases
from flyte.runtime import PackRuntime
from flyte.secrets import box_from_settings
from flyte.store import Stores
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores
from flyte.store.retention import Retention
from flyte.store.webhooks import WebhookStore
from flyte.templating import build_engine
from flyte.templating import template_functions
from flyte.webhooks import WebhookIngest
from workers.broker import broker_health_checks
from workers.broker import build_broker
from workers.inspectors import build_queue_inspector
from workers.leadership import read_leader
from workers.queue import DramatiqQueue


@dataclass(frozen=True)
class Dependencies:
    """Everything the API needs from outside, injected so tests can build their own."""

    stores: Stores
    queue: WorkQueue
    health_checks: Mapping[str, HealthCheck]
    clock: Callable[[], datetime] = field(default=utcnow)
    #: Compiles flow templates; the engine built from settings when not given.
    check_syntax: SyntaxCheck | None = None
    #: Policy and token verifier; built from settings when auth is on and not given.
    auth: Auth | None = None
    #: Reads and repairs the broker's queues; None: no queue view.
    queues: QueueInspector | None = None
    #: Where requests, events and actions are counted; the process's own if None.
    metrics: Metrics | None = None
    #: Names the leading scheduler for the console; None: the console cannot tell.
    scheduler_leader: Callable[[], str | None] | None = None


def create_app(
    settings: Settings, deps: Dependencies
) -> falcon.App[falcon.Request, falcon.Response]:
    """Wire the resources, media handlers and error mapping; reads no environment."""
    # Auth first, so it guards everything (health and swagger too), as upstream.
    checker = (deps.auth or load_auth(settings)) if settings.auth_enabled else None
    auth = [AuthMiddleware(checker)] if checker is not None else []
    metrics = deps.metrics or get_metrics()
    app = falcon.App[falcon.Request, falcon.Response](
        middleware=[
            # Routing on the raw path first, so every other one sees the route.
            EscapedSlashMiddleware(),
            # Timing next, so refusals by the others are timed too; the
            # console's CSRF check and headers before auth, so they cover its
            # redirects and refusals.
            MetricsMiddleware(metrics),
            ConsoleSecurityMiddleware(),
            *auth,
            NegotiationMiddleware(),
            BodyLimitsMiddleware(BodyLimits.from_settings(settings)),
        ]
    )
    yaml_handler = YamlHandler()
    app.req_options.media_handlers[YAML_TYPE] = yaml_handler
    app.resp_options.media_handlers[YAML_TYPE] = yaml_handler
    add_error_handlers(app)
    check_syntax = deps.check_syntax or build_engine(settings).check_syntax
    leases = Leases(settings.action_lease_seconds, settings.action_max_attempts)
    runtime = PackRuntime(
        deps.stores,
        deps.queue,
        leases,
        clock=deps.clock,
        metrics=metrics,
        key_window=timedelta(seconds=settings.idempotency_window_seconds),
    )
    add_routes(app, _resources(settings, deps, check_syntax, runtime))
    add_console_routes(app, deps)
    add_flow_test_route(app, deps.stores.flows, _dry_run(settings, deps))
    add_sign_in_routes(app, checker)
    return app


def build_app(settings: Settings) -> falcon.App[falcon.Request, falcon.Response]:
    """Connect to the configured MongoDB and Redis and build the app."""
    db = connect(settings)
    ensure_indexes(db, Retention.from_settings(settings))
    checks = {"mongo": mongo_check(db), **broker_health_checks(settings)}
    # The one place the API learns about Dramatiq: it reads the queues it sends to.
    broker = build_broker(settings)
    # The schedulers' lease and the flow stamp live in Redis whatever the broker.
    redis_client = health_redis_client(settings.redis_url)
    stamp = RedisFlowStamp(redis_client, db.name)
    deps = Dependencies(
        stores=open_stores(db, box_from_settings(settings), flow_stamp=stamp),
        queue=DramatiqQueue(broker),
        health_checks=checks,
        auth=load_auth(settings) if settings.auth_enabled else None,
        queues=build_queue_inspector(broker),
        scheduler_leader=functools.partial(read_leader, redis_client),
    )
    return create_app(settings, deps)


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """Entry point for WSGI servers (``waitress-serve --call api.app:get_app``)."""
    settings = Settings.from_env()
    configure_logging(settings)
    if settings.metrics_multiproc_dir:
        prepare_multiprocess_dir(settings.metrics_multiproc_dir)
    return build_app(settings)


@functools.cache
def load_openapi() -> dict[str, Any]:
    """The OpenAPI document shipped with the package, parsed once per process.

    Callers share the one copy and must not change it.
    """
    text = resources.files("api").joinpath("openapi.yaml").read_text()
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def _resources(
    settings: Settings,
    deps: Dependencies,
    check_syntax: SyntaxCheck,
    runtime: PackRuntime,
) -> dict[str, object]:
    packs = deps.stores.packs
    audit = Audit(deps.stores)
    return {
        "index": IndexResource(),
        "v1": V1Resource(),
        "health": HealthResource(deps.health_checks),
        "openapi": OpenApiResource(load_openapi()),
        "swagger_ui": SwaggerUiResource(),
        "packs": PacksResource(packs, runtime, deps.clock, settings.max_labels),
        "pack": PackResource(packs, runtime, deps.clock),
        "flows": FlowsResource(
            deps.stores.flows,
            check_syntax,
            max_steps=settings.max_flow_steps,
            max_labels=settings.max_labels,
        ),
        "flow": FlowResource(deps.stores.flows),
        "flow_test": FlowTestResource(
            deps.stores.flows,
            check_syntax,
            _dry_run(settings, deps),
            max_steps=settings.max_flow_steps,
            max_labels=settings.max_labels,
        ),
        "flow_enabled": FlowEnabledResource(deps.stores.flows),
        "pack_events": PackEventsResource(runtime),
        "take_action": TakeActionResource(runtime),
        "action_result": ActionResultResource(runtime),
        "event": EventResource(deps.stores.events),
        "replay_event": ReplayEventResource(
            Replays(deps.stores, deps.queue, clock=deps.clock)
        ),
        "audit_flows": AuditFlowsResource(audit),
        "audit_flow": AuditFlowResource(audit),
        "datastore": DatastoreResource(deps.stores.datastore),
        "datastore_item": DatastoreItemResource(
            deps.stores.datastore, settings.datastore_max_bytes
        ),
        "datastore_secret_value": DatastoreSecretValueResource(
            deps.stores.datastore, settings.auth_enabled
        ),
        "secrets_rekey": SecretsRekeyResource(
            deps.stores.datastore, deps.stores.actions
        ),
        "metrics": MetricsResource(settings.metrics_multiproc_dir, deps.queues),
        **_webhook_resources(settings, deps),
    }


def _dry_run(settings: Settings, deps: Dependencies) -> DryRun:
    """The flow dry run: the engine's evaluation, datastore() reading the real one.

    Its answer is shown to the caller, so secret() gives the mask and never decrypts.
    """
    evaluator = StepEvaluator(
        build_engine(settings),
        clock=deps.clock,
        functions=template_functions(deps.stores.datastore, mask_secrets=True),
    )
    return DryRun(evaluator, clock=deps.clock)


def _webhook_resources(settings: Settings, deps: Dependencies) -> dict[str, object]:
    """Webhook deliveries and configuration; signing secrets from the datastore."""
    webhooks = WebhookStore(deps.stores.db)
    window = timedelta(seconds=settings.idempotency_window_seconds)
    ingest = WebhookIngest(deps.stores, deps.queue, window)
    return {
        "webhooks": WebhooksResource(webhooks),
        "webhook": WebhookResource(
            webhooks,
            deps.stores.datastore,
            ingest,
            deps.clock,
            deps.metrics or get_metrics(),
        ),
        "webhook_config": WebhookConfigResource(webhooks),
    }
