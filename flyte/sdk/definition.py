"""What a pack is: its name, labels, events and command handlers, declared in code.

A ``PackDefinition`` only declares; the runner (``flyte/sdk/runner.py``) registers
it, polls for actions and runs its handlers, and ``Pack`` (``flyte/sdk/pack.py``)
adds ``start()`` and ``run()`` on top.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flyte.contract.times import format_time
from flyte.contract.times import utcnow
from flyte.sdk.health import HealthCheck

#: The event name that marks an action as failed (state FATAL).
FATAL = "FATAL"
#: Upstream flyte-client's polling interval and its lower bound, in seconds.
DEFAULT_POLLING_INTERVAL = 5.0
MIN_POLLING_INTERVAL = 0.5
#: How many handlers run at once unless the pack says otherwise.
DEFAULT_MAX_CONCURRENT_ACTIONS = 4


@dataclass(frozen=True)
class Event:
    """An event a pack sends: a name and any JSON payload."""

    name: str
    payload: Any = None


def fatal_event(payload: Any) -> Event:
    """An event that marks the action FATAL, carrying why."""
    return Event(FATAL, payload)


def event_body(event: Event) -> dict[str, Any]:
    """The wire shape of an event a pack sends, stamped with the time it is sent."""
    return {
        "event": event.name,
        "payload": event.payload,
        "createdAt": format_time(utcnow()),
    }


@dataclass(frozen=True)
class EventDef:
    """An event the pack may send, with an optional help link."""

    name: str
    help_url: str | None = None


#: A command handler takes the action's input (any JSON) and returns its result.
Handler = Callable[[Any], Event]


@dataclass(frozen=True)
class Command:
    """A command the pack runs, and the events its handler may return."""

    name: str
    handler: Handler
    events: tuple[str, ...]
    help_url: str | None = None


class PackDefinition:
    """A pack's name, labels, events, commands and health checks, as declared."""

    def __init__(
        self,
        name: str,
        *,
        help_url: str | None = None,
        labels: Mapping[str, str] | None = None,
        events: Iterable[str | EventDef] = (),
        polling_interval: float = DEFAULT_POLLING_INTERVAL,
        max_concurrent_actions: int = DEFAULT_MAX_CONCURRENT_ACTIONS,
    ) -> None:
        if not name:
            raise ValueError("a pack needs a name")
        if max_concurrent_actions < 1:
            raise ValueError("max_concurrent_actions must be at least 1")
        self.name = name
        self.help_url = help_url
        self.labels = dict(labels or {})
        self.events = [e if isinstance(e, EventDef) else EventDef(e) for e in events]
        # Upstream enforces the same floor so a pack cannot hammer the API.
        self.polling_interval = max(polling_interval, MIN_POLLING_INTERVAL)
        self.max_concurrent_actions = max_concurrent_actions
        self.commands: dict[str, Command] = {}
        self.health_checks: dict[str, HealthCheck] = {}

    def command(
        self, name: str, *, events: Iterable[str], help_url: str | None = None
    ) -> Callable[[Handler], Handler]:
        """Declare ``name`` as a command handled by the decorated function."""

        def register(handler: Handler) -> Handler:
            self.add_command(name, handler, events=events, help_url=help_url)
            return handler

        return register

    def add_command(
        self,
        name: str,
        handler: Handler,
        *,
        events: Iterable[str],
        help_url: str | None = None,
    ) -> None:
        """Declare ``name`` as a command handled by ``handler``."""
        if name in self.commands:
            raise ValueError(f"command {name!r} is declared twice")
        self.commands[name] = Command(name, handler, tuple(events), help_url)

    def health_check(self, name: str) -> Callable[[HealthCheck], HealthCheck]:
        """Add the decorated function to the pack's health endpoint as ``name``."""

        def register(check: HealthCheck) -> HealthCheck:
            self.health_checks[name] = check
            return check

        return register

    def definition(self, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The registration body: upstream's shape, events deduplicated."""
        body: dict[str, Any] = {"name": self.name}
        all_labels = {**self.labels, **(labels or {})}
        if all_labels:
            body["labels"] = all_labels
        if self.help_url:
            body["links"] = [_help(self.help_url)]
        events = self._event_defs()
        if events:
            body["events"] = [_event_body(event) for event in events]
        if self.commands:
            body["commands"] = [_command_body(c) for c in self.commands.values()]
        return body

    def _event_defs(self) -> list[EventDef]:
        # Declared events first, then each command's output events, once each:
        # the same union as the Go client, in a stable order.
        seen: dict[str, EventDef] = {event.name: event for event in self.events}
        for command in self.commands.values():
            for name in command.events:
                seen.setdefault(name, EventDef(name))
        return list(seen.values())


def _help(url: str) -> dict[str, str]:
    return {"href": url, "rel": "help"}


def _event_body(event: EventDef) -> dict[str, Any]:
    body: dict[str, Any] = {"name": event.name}
    if event.help_url:
        body["links"] = [_help(event.help_url)]
    return body


def _command_body(command: Command) -> dict[str, Any]:
    body: dict[str, Any] = {"name": command.name, "events": list(command.events)}
    if command.help_url:
        body["links"] = [_help(command.help_url)]
    return body


__all__ = [
    "FATAL",
    "Command",
    "Event",
    "EventDef",
    "Handler",
    "PackDefinition",
    "event_body",
    "fatal_event",
]
