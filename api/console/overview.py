"""The Overview page: the health of the system at a glance, refreshed by polling."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import falcon

from api.console.deps import ConsoleDependencies
from api.console.render import format_time
from api.console.render import render
from flyte.action import Action
from flyte.errors import Unavailable
from flyte.health import run_checks
from flyte.pack import CRITICAL_AFTER
from flyte.pack import WARNING_AFTER
from flyte.queue_inspection import QueueDepth
from flyte.queue_inspection import QueueInspector
from flyte.store.browse import Browse
from flyte.store.events import EventRecord

#: The window of the events counted by status.
RECENT_EVENTS = timedelta(hours=1)
#: Failures listed of each kind (failed events, FATAL actions).
LATEST_FAILURES = 10
#: How often console.js asks for fresh counts.
POLL_MILLISECONDS = 5000
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Failure:
    """A failed event or a FATAL action, as the overview lists it."""

    time: datetime
    kind: str
    pack_name: str
    name: str
    detail: str
    href: str


@dataclass(frozen=True)
class Snapshot:
    """Everything the overview counts, at one moment."""

    taken_at: datetime
    health: dict[str, str]
    counts: dict[str, int | str]
    queues: list[QueueDepth] | None
    queue_error: str = ""
    failures: list[Failure] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """What /console/overview.json answers: every count by name."""
        counts: dict[str, int | str | None] = dict(self.counts)
        for name, result in self.health.items():
            counts[f"health_{name}"] = result
        for depth in self.queues or []:
            for kind in ("ready", "delayed", "dead"):
                value = getattr(depth, kind)
                counts[f"queue_{depth.name}_{kind}"] = (
                    UNKNOWN if value is None else value
                )
        return {"counts": counts, "refreshedAt": format_time(self.taken_at)}


class Overview:
    """Takes snapshots from the stores, the health checks and the queue seam."""

    def __init__(self, deps: ConsoleDependencies) -> None:
        self._browse = Browse(deps.stores.db)
        self._checks = deps.health_checks
        self._queues = deps.queues
        self._leader = deps.scheduler_leader
        self._clock = deps.clock

    def snapshot(self, *, failures: bool) -> Snapshot:
        """Count now; read the latest failures too when ``failures``."""
        now = self._clock()
        queues, workers, queue_error = _read_queues(self._queues)
        counts: dict[str, int | str] = {
            **self._pack_counts(now),
            "flows": self._browse.count_flows(),
            **_prefixed("events", self._browse.count_events(now - RECENT_EVENTS)),
            **_prefixed("actions", self._browse.count_actions()),
            "workers_alive": UNKNOWN if workers is None else workers,
            "scheduler_leader": self._scheduler_leader(),
        }
        return Snapshot(
            taken_at=now,
            health=run_checks(self._checks),
            counts=counts,
            queues=queues,
            queue_error=queue_error,
            failures=self._failures() if failures else [],
        )

    def _scheduler_leader(self) -> str:
        """The leading scheduler's ``host:pid``, "none", or "unknown"."""
        if self._leader is None:
            return UNKNOWN
        try:
            return self._leader() or "none"
        except Unavailable:
            return UNKNOWN

    def _failures(self) -> list[Failure]:
        """The latest failed events and FATAL actions, newest first."""
        found = [
            _event_failure(r) for r in self._browse.failed_events(LATEST_FAILURES)
        ] + [_action_failure(a) for a in self._browse.failed_actions(LATEST_FAILURES)]
        found.sort(key=lambda failure: failure.time, reverse=True)
        return found[:LATEST_FAILURES]

    def _pack_counts(self, now: datetime) -> dict[str, int | str]:
        live = self._browse.count_packs_seen(now - WARNING_AFTER)
        warning = self._browse.count_packs_seen(
            now - CRITICAL_AFTER, before=now - WARNING_AFTER
        )
        total = self._browse.count_packs()
        return {
            "packs_live": live,
            "packs_warning": warning,
            "packs_critical": total - live - warning,
            "packs_total": total,
        }


def _event_failure(record: EventRecord) -> Failure:
    return Failure(
        time=record.event.received_at,
        kind="event failed",
        pack_name=record.event.pack.name,
        name=record.event.name,
        detail=record.reason,
        href=f"/console/events/{quote(record.event.id, safe='')}",
    )


def _action_failure(action: Action) -> Failure:
    return Failure(
        time=action.last_change.time,
        kind="action FATAL",
        pack_name=action.pack_name,
        name=action.name,
        detail=f"flow {action.flow_name}, step {action.step_id}",
        href=f"/console/executions/{quote(action.correlation_id, safe='')}",
    )


def _prefixed(prefix: str, counts: dict[str, int]) -> dict[str, int | str]:
    return {f"{prefix}_{name.lower()}": value for name, value in counts.items()}


def _read_queues(
    queues: QueueInspector | None,
) -> tuple[list[QueueDepth] | None, int | None, str]:
    """Queue depths and live workers, or None when there is no queue view."""
    if queues is None:
        return None, None, ""
    try:
        depths = queues.depths()
        workers = sum(1 for worker in queues.workers() if worker.alive)
    except Unavailable as ex:
        return None, None, str(ex)
    return depths, workers, ""


class OverviewResource:
    """``GET /console``: health, counts and the latest failures."""

    def __init__(self, overview: Overview) -> None:
        self._overview = overview

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render the overview."""
        snapshot = self._overview.snapshot(failures=True)
        render(
            req,
            resp,
            "overview.html",
            title="Overview",
            snapshot=snapshot,
            poll_ms=POLL_MILLISECONDS,
        )


class OverviewJsonResource:
    """``GET /console/overview.json``: the overview's counts, for console.js."""

    def __init__(self, overview: Overview) -> None:
        self._overview = overview

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Answer the counts as JSON."""
        resp.media = self._overview.snapshot(failures=False).to_json()
        resp.cache_control = ["no-store"]
