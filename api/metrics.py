"""``GET /metrics`` in Prometheus text format, and the request-latency middleware.

Counters live in ``flyte/metrics.py``. In multi-process mode (the
``PROMETHEUS_MULTIPROC_DIR`` of Settings) a scrape adds up the files of every
web and worker process of this host; queue depths are read from the broker at
scrape time, so they are the same whichever API process answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import falcon
from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from flyte.errors import FlyteError
from flyte.metrics import Metrics
from flyte.queue_inspection import QueueInspector

logger = logging.getLogger(__name__)

#: What Prometheus's text format is served as.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: The route label of a request refused before routing (auth) or not routed.
UNROUTED = "unrouted"


class MetricsMiddleware:
    """Time every request and count it by route template, method and status."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Note when the request arrived."""
        req.context.metrics_started = time.perf_counter()

    def process_response(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        req_succeeded: bool,
    ) -> None:
        """Observe the request's latency under its route template (never its path:
        ids in paths would make a series per event)."""
        started = req.context.get("metrics_started")
        if started is None:
            return
        route = req.uri_template or UNROUTED
        self._metrics.http_requests.labels(
            route, req.method, str(resp.status_code)
        ).observe(time.perf_counter() - started)


class QueueDepthCollector(Collector):
    """The broker's queue depths, read when Prometheus scrapes."""

    def __init__(self, queues: QueueInspector) -> None:
        self._queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """One gauge per queue and state; nothing when the broker cannot answer."""
        up = GaugeMetricFamily(
            "flyte_queue_inspection_up",
            "1 when the broker answered the queue-depth query of this scrape.",
        )
        depths = GaugeMetricFamily(
            "flyte_queue_messages",
            "Messages in each work queue by state (ready, delayed, dead).",
            labels=["queue", "state"],
        )
        try:
            found = self._queues.depths()
        except FlyteError as ex:
            logger.warning("queue depths unavailable for /metrics: %s", ex)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for depth in found:
            for state in ("ready", "delayed", "dead"):
                value = getattr(depth, state)
                if value is not None:  # the broker cannot tell this one
                    depths.add_metric([depth.name, state], value)
        yield up
        yield depths


class MetricsResource:
    """``GET /metrics``: every process's counters, and the queue depths."""

    def __init__(
        self, multiprocess_dir: str | None, queues: QueueInspector | None
    ) -> None:
        self._processes = _process_registry(multiprocess_dir)
        self._queues = CollectorRegistry()
        if queues is not None:
            self._queues.register(QueueDepthCollector(queues))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer in Prometheus text format."""
        resp.content_type = CONTENT_TYPE
        resp.data = generate_latest(self._processes) + generate_latest(self._queues)


def _process_registry(multiprocess_dir: str | None) -> CollectorRegistry:
    """The registry to expose: this process's own, or in multi-process mode one
    that reads every process's files (this process's own values are among
    them, and its per-process collectors would only describe one process)."""
    if not multiprocess_dir:
        return REGISTRY
    registry = CollectorRegistry()
    # prometheus_client leaves this constructor unannotated.
    MultiProcessCollector(registry, path=multiprocess_dir)  # type: ignore[no-untyped-call]
    return registry
