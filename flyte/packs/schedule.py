"""The Timer pack's timers: read from YAML, checked as a whole, and scheduled.

Fire times come from the cron schedule, never from summing sleeps, so the
timers do not drift; after a pause (a suspended laptop) each timer fires once
for the latest time it missed, not once per missed time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo
from zoneinfo import ZoneInfoNotFoundError

import yaml
from croniter import croniter

from flyte.contract.times import format_time
from flyte.packs.errors import InvalidTimers

_KEYS = frozenset({"name", "cron", "timezone", "payload"})


@dataclass(frozen=True)
class Timer:
    """A named cron schedule, in a time zone, with the payload of its ticks."""

    name: str
    cron: str
    timezone: ZoneInfo = ZoneInfo("UTC")
    payload: Any = None

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after ``moment``, in UTC."""
        local = moment.astimezone(self.timezone)
        fire: datetime = croniter(self.cron, local).get_next(datetime)
        return fire.astimezone(UTC)


@dataclass(frozen=True)
class Tick:
    """A timer firing for one scheduled time."""

    timer: Timer
    scheduled_at: datetime
    #: Earlier scheduled times passed while the pack was paused, not fired.
    skipped: int = 0

    def payload(self) -> dict[str, Any]:
        """The ``Tick`` event's payload."""
        return {
            "name": self.timer.name,
            "cron": self.timer.cron,
            "scheduledAt": format_time(self.scheduled_at),
            "payload": self.timer.payload,
        }


class Schedule:
    """When each timer fires next; ``due(now)`` hands out the ticks that are due."""

    def __init__(self, timers: Iterable[Timer], clock: Callable[[], datetime]) -> None:
        now = clock()
        self._timers = {timer.name: timer for timer in timers}
        self._next = {name: t.next_after(now) for name, t in self._timers.items()}

    def next_time(self) -> datetime:
        """The earliest upcoming fire time of any timer."""
        return min(self._next.values())

    def due(self, now: datetime) -> list[Tick]:
        """One tick per timer whose time has come; each moves past ``now``."""
        ticks = []
        for name, fire in self._next.items():
            if fire > now:
                continue
            timer = self._timers[name]
            skipped = 0
            upcoming = timer.next_after(fire)
            while upcoming <= now:
                fire, upcoming = upcoming, timer.next_after(upcoming)
                skipped += 1
            self._next[name] = upcoming
            ticks.append(Tick(timer, fire, skipped))
        return ticks


def load_timers(text: str) -> list[Timer]:
    """Parse and check a whole configuration; ``InvalidTimers`` lists every problem."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as ex:
        raise InvalidTimers([f"not YAML: {ex}"]) from ex
    items = document.get("timers") if isinstance(document, Mapping) else None
    if not isinstance(items, list) or not items:
        raise InvalidTimers(["the file needs 'timers:', a non-empty list"])
    problems: list[str] = []
    timers: list[Timer] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        timer = _timer(item, f"timers[{index}]", problems)
        if timer is not None and timer.name in seen:
            problems.append(f"timer {timer.name!r}: the name is used twice")
        elif timer is not None:
            seen.add(timer.name)
            timers.append(timer)
    if problems:
        raise InvalidTimers(problems)
    return timers


def _timer(item: Any, where: str, problems: list[str]) -> Timer | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where}: must be a mapping with name and cron")
        return None
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: 'name' must be a non-empty string")
        return None
    found = len(problems)
    label = f"timer {name!r}"
    unknown = sorted(str(key) for key in set(item) - _KEYS)
    if unknown:
        problems.append(f"{label}: unknown key(s) {unknown}")
    cron = item.get("cron")
    if not isinstance(cron, str) or not croniter.is_valid(cron):
        problems.append(f"{label}: 'cron' {cron!r} is not a cron expression")
    zone = _zone(item.get("timezone", "UTC"), label, problems)
    payload = item.get("payload")
    try:
        json.dumps(payload)
    except (TypeError, ValueError):
        problems.append(f"{label}: 'payload' must be plain JSON (quote dates)")
    if len(problems) > found or zone is None:
        return None
    return Timer(name, str(cron), zone, payload)


def _zone(value: Any, label: str, problems: list[str]) -> ZoneInfo | None:
    try:
        if isinstance(value, str) and value.strip():
            return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    problems.append(f"{label}: 'timezone' {value!r} is not a known time zone")
    return None
