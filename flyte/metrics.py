"""Prometheus metrics of the whole system, defined in one place.

The domain counts what happens (events, steps, action states, takes) through a
``Metrics`` it is given, by default the process's own (``get_metrics``). With
``PROMETHEUS_MULTIPROC_DIR`` set, prometheus_client writes every process's
values to files there, and ``GET /metrics`` adds up all processes of the host.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import REGISTRY
from prometheus_client import CollectorRegistry
from prometheus_client import Counter
from prometheus_client import Histogram

from flyte.action import Action
from flyte.action import ActionState
from flyte.errors import FlyteError

#: Seconds from an event's arrival to its action being takeable: a worker's
#: queue wait plus the engine's work, milliseconds when all is well.
EVENT_TO_TAKEABLE_BUCKETS = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
)
#: API answers: from under a millisecond (take with nothing waiting) to seconds.
REQUEST_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
#: The label of an action's state before it was created.
CREATED = "none"

_lock = threading.Lock()
_metrics: Metrics | None = None


class Metrics:
    """Every metric the API and the workers export, registered in ``registry``.

    ``registry=None`` registers nowhere: what multi-process mode needs, since
    its collector reads the values from files, and what tests use to count on
    their own without clashing with the process's metrics.
    """

    def __init__(self, registry: CollectorRegistry | None = REGISTRY) -> None:
        self.events_accepted = Counter(
            "flyte_events_accepted",
            "Events stored and queued, by kind (event, result, replay, webhook).",
            ["kind"],
            registry=registry,
        )
        self.events_refused = Counter(
            "flyte_events_refused",
            "Events and results refused, by reason (the error's name).",
            ["kind", "reason"],
            registry=registry,
        )
        self.steps = Counter(
            "flyte_steps",
            "Step evaluations, by outcome (fired, skipped, failed).",
            ["outcome"],
            registry=registry,
        )
        self.action_transitions = Counter(
            "flyte_action_transitions",
            "Action state changes (from_state none: created).",
            ["from_state", "to_state"],
            registry=registry,
        )
        self.takes = Counter(
            "flyte_takes",
            "Takes by packs, by result (action: one handed out, empty: none).",
            ["result"],
            registry=registry,
        )
        self.event_to_takeable = Histogram(
            "flyte_event_to_takeable_seconds",
            "Time from an event's arrival at the API to its action being takeable.",
            buckets=EVENT_TO_TAKEABLE_BUCKETS,
            registry=registry,
        )
        self.http_requests = Histogram(
            "flyte_http_request_duration_seconds",
            "API request latency, by route template, method and status.",
            ["route", "method", "status"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.worker_messages = Counter(
            "flyte_worker_messages",
            "Messages processed by workers, by actor and outcome "
            "(success, retry, dead, skipped).",
            ["actor", "outcome"],
            registry=registry,
        )
        self.mongo_commands = Counter(
            "flyte_mongo_commands",
            "MongoDB commands sent, by stage (accept, take, result, evaluate, "
            "housekeeping, other), target collection and command name.",
            ["stage", "collection", "command"],
            registry=registry,
        )

    def event_accepted(self, kind: str) -> None:
        """An event was stored and queued."""
        self.events_accepted.labels(kind).inc()

    def event_refused(self, kind: str, ex: Exception) -> None:
        """An event was refused with ``ex``; its class names the reason."""
        self.events_refused.labels(kind, reason_of(ex)).inc()

    @contextmanager
    def counting_event(self, kind: str) -> Iterator[None]:
        """Count the event posted inside the block: accepted, or refused by
        the error that ends the block."""
        try:
            yield
        except Exception as ex:
            self.event_refused(kind, ex)
            raise
        self.event_accepted(kind)

    def step_evaluated(self, outcome: str) -> None:
        """A step fired, was skipped or failed."""
        self.steps.labels(outcome).inc()

    def action_created(self, action: Action) -> None:
        """A new action is stored, takeable from now on."""
        self.action_transitions.labels(CREATED, ActionState.NEW.value).inc()
        waited = action.states[0].time - action.trigger.received_at
        self.event_to_takeable.observe(max(waited.total_seconds(), 0.0))

    def action_moved(self, before: ActionState, after: ActionState) -> None:
        """An action changed state (taken, finished, lease expired)."""
        self.action_transitions.labels(before.value, after.value).inc()

    def take_returned(self, action: Action | None) -> None:
        """A take handed out an action, or found none."""
        self.takes.labels("empty" if action is None else "action").inc()

    def mongo_command_sent(self, stage: str, collection: str, command: str) -> None:
        """A MongoDB command was sent during ``stage``."""
        self.mongo_commands.labels(stage, collection, command).inc()


def get_metrics() -> Metrics:
    """The process's metrics, registered in the default registry on first use."""
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = Metrics()
        return _metrics


def reason_of(ex: Exception) -> str:
    """A refusal's reason label: its error class in snake case (PackNotFound:
    pack_not_found), a small fixed set as the error hierarchy is; ``error``
    for anything else (a fault, not a refusal)."""
    if not isinstance(ex, FlyteError):
        return "error"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(ex).__name__).lower()


def prepare_multiprocess_dir(path: str | Path, *, fresh: bool = False) -> Path:
    """Create the directory the processes of one host write their metrics to.

    ``fresh`` empties it first: only when every process of the host starts
    anew together (``flyte dev``), since the files of stopped processes keep
    counting in the totals until then.
    """
    directory = Path(path)
    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return directory
