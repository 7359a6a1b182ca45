"""Workers' metrics: a Dramatiq middleware counting each message's outcome, and
``python -m workers.metrics``, which serves a worker-only host's metrics.

On a host that also runs the API, ``GET /metrics`` already adds up the worker
processes (they share ``PROMETHEUS_MULTIPROC_DIR``); the server here is for
hosts that run only workers.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import dramatiq
from dramatiq.middleware import Retries
from prometheus_client import CollectorRegistry
from prometheus_client import multiprocess
from prometheus_client import start_http_server

from flyte.config import Settings
from flyte.logging import configure_logging
from flyte.metrics import Metrics
from flyte.metrics import prepare_multiprocess_dir

logger = logging.getLogger(__name__)


class MessageMetricsMiddleware(dramatiq.Middleware):
    """Count every processed message by actor and outcome.

    Outcomes: ``success``; a failure is ``retry`` (queued again after a
    backoff) or ``dead`` (given up: dead-lettered); ``skipped`` (never run,
    e.g. too old). Must sit before ``Retries`` in the broker's middleware:
    Dramatiq runs ``after_*`` hooks last to first, so this one then sees
    whether ``Retries`` gave the message up.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        """Count the outcome of one processed message."""
        if exception is None:
            outcome = "success"
        else:
            outcome = "dead" if message.failed else "retry"
        self._metrics.worker_messages.labels(message.actor_name, outcome).inc()

    def after_skip_message(
        self, broker: dramatiq.Broker, message: dramatiq.MessageProxy
    ) -> None:
        """Count a message that was not run at all."""
        self._metrics.worker_messages.labels(message.actor_name, "skipped").inc()

    def after_worker_shutdown(
        self, broker: dramatiq.Broker, worker: dramatiq.Worker
    ) -> None:
        """Drop this process's live gauges (its counters keep counting)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]


def add_message_metrics(broker: dramatiq.Broker, metrics: Metrics) -> None:
    """Count ``broker``'s message outcomes (placed before Retries, see above)."""
    has_retries = any(isinstance(m, Retries) for m in broker.middleware)
    broker.add_middleware(
        MessageMetricsMiddleware(metrics), before=Retries if has_retries else None
    )


def serve_host_metrics(settings: Settings) -> threading.Thread:
    """Serve every process's metrics of this host on ``FLYTE_METRICS_PORT``."""
    if not settings.metrics_multiproc_dir:
        raise SystemExit(
            "workers.metrics: set PROMETHEUS_MULTIPROC_DIR to the directory "
            "the worker processes of this host write to"
        )
    directory = prepare_multiprocess_dir(settings.metrics_multiproc_dir)
    registry = CollectorRegistry()
    # prometheus_client leaves this constructor unannotated.
    multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    server, thread = start_http_server(
        settings.metrics_port, addr=settings.bind, registry=registry
    )
    logger.info(
        "Serving this host's metrics on %s:%d/metrics",
        settings.bind,
        settings.metrics_port,
    )
    return thread


def main() -> None:
    """``python -m workers.metrics``: serve until stopped."""
    settings = Settings.from_env()
    configure_logging(settings)
    serve_host_metrics(settings).join()


if __name__ == "__main__":
    main()
