"""The checks behind a running pack's health endpoint.

Unlike upstream's ``FlyteApiHealthCheck``, which always said healthy, these
report what they find: the API unreachable, the pack unregistered or its poll
loop stalled all turn the endpoint's answer to 500.
"""

from __future__ import annotations

import time
from typing import Any
from typing import Protocol

from flyte.sdk.client import REL_HEALTH
from flyte.sdk.client import ApiClient
from flyte.sdk.client import find_link
from flyte.sdk.definition import PackDefinition
from flyte.sdk.errors import ClientError
from flyte.sdk.health import Health
from flyte.sdk.health import HealthCheck

#: Upstream's timeout for the API health check, in seconds.
API_CHECK_TIMEOUT = 5.0
#: A poll loop is stalled when its last good poll is older than this many
#: polling intervals (and at least ``MIN_STALL_SECONDS``).
STALL_INTERVALS = 3
MIN_STALL_SECONDS = 30.0


class RunningPack(Protocol):
    """What the checks read of a running pack: a ``PackRunner`` is one."""

    @property
    def pack(self) -> PackDefinition:
        """The definition being run."""

    @property
    def api(self) -> ApiClient:
        """The client of the pack's API."""

    @property
    def labels(self) -> dict[str, str]:
        """The labels the pack registered with."""

    @property
    def registered(self) -> bool:
        """Whether the pack has registered."""

    @property
    def api_links(self) -> list[dict[str, Any]]:
        """The links of the API's ``/v1`` document."""

    @property
    def last_poll(self) -> float | None:
        """``time.monotonic()`` of the last poll the API answered, if any."""

    def in_flight(self) -> int:
        """How many handlers are running now."""


def pack_checks(runner: RunningPack) -> dict[str, HealthCheck]:
    """The built-in checks of ``runner``, then the pack's own."""
    checks: dict[str, HealthCheck] = {
        "FlyteApi": lambda: api_health(runner),
        "Registration": lambda: registration_health(runner),
    }
    if runner.pack.commands:
        checks["ActionPolling"] = lambda: polling_health(runner)
    checks.update(runner.pack.health_checks)
    return checks


def api_health(runner: RunningPack) -> Health:
    """Healthy when the API's health link answers 200."""
    try:
        url = find_link(runner.api_links, REL_HEALTH, "the API's /v1 links")
        runner.api.request("GET", url, expect=(200,), timeout=API_CHECK_TIMEOUT)
    except ClientError as ex:
        return Health(False, f"Flyte API is not healthy: {ex}")
    return Health(True, f"Flyte API at {runner.api.config.api_url} is healthy")


def registration_health(runner: RunningPack) -> Health:
    """Healthy once the pack is registered."""
    if runner.registered:
        return Health(True, f"registered with labels {runner.labels}")
    return Health(False, "not registered yet")


def polling_health(runner: RunningPack) -> Health:
    """Healthy while the poll loop reaches the API often enough."""
    interval = runner.pack.polling_interval
    allowed = max(STALL_INTERVALS * interval, MIN_STALL_SECONDS)
    if runner.last_poll is None:
        return Health(False, "has not polled for actions yet")
    age = time.monotonic() - runner.last_poll
    running = runner.in_flight()
    status = f"last polled {age:.1f} s ago; {running} action(s) running"
    # Every slot busy means the loop waits for a handler, not that it stalled.
    busy = running >= runner.pack.max_concurrent_actions
    return Health(age <= allowed or busy, status)
