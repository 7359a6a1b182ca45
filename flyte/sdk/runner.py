"""Runs a pack: registers it, polls for actions, runs handlers, posts results.

Threads, not asyncio: handlers are ordinary (often blocking) functions, run by a
thread pool of ``max_concurrent_actions`` workers. The poll loop takes an action
only when a worker is free, so a busy pack never holds actions it cannot start;
it polls again at once after an action and waits the polling interval when there
is none.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from typing import Any

from tenacity import RetryCallState
from tenacity import Retrying
from tenacity import retry_if_exception
from tenacity import stop_after_delay
from tenacity import stop_when_event_set
from tenacity import wait_random_exponential

from flyte.sdk.backoff import PollBackoff
from flyte.sdk.client import REL_EVENT
from flyte.sdk.client import REL_PACKS
from flyte.sdk.client import REL_RESULT
from flyte.sdk.client import REL_TAKE
from flyte.sdk.client import ApiClient
from flyte.sdk.client import find_link
from flyte.sdk.definition import Event
from flyte.sdk.definition import PackDefinition
from flyte.sdk.definition import event_body
from flyte.sdk.definition import fatal_event
from flyte.sdk.errors import ApiError
from flyte.sdk.errors import ClientError
from flyte.sdk.errors import LinkNotFound
from flyte.sdk.health import HealthServer
from flyte.sdk.pack_health import pack_checks

logger = logging.getLogger(__name__)

#: How long a graceful shutdown waits for handlers already running.
DEFAULT_SHUTDOWN_SECONDS = 30.0
#: How long a result is retried while the API is unreachable or failing.
DEFAULT_RESULT_RETRY_SECONDS = 60.0
#: A pack's own loop, given the running pack (see ``Pack.run``).
Background = Callable[["PackRunner"], None]
#: Backoff between attempts to register or to report a result, in seconds.
RETRY_FIRST_DELAY = 0.5
RETRY_MAX_DELAY = 30.0
#: Registration answers that retrying cannot fix: the definition is wrong (400,
#: 413, 422), or the token (FLYTE_JWT) is missing or not allowed (401, 403).
_PERMANENT_STATUSES = frozenset({400, 401, 403, 413, 422})


class PackRunner:
    """A registered, polling pack; ``stop()`` finishes the actions in flight."""

    def __init__(
        self, pack: PackDefinition, api: ApiClient, labels: Mapping[str, str]
    ) -> None:
        self.pack = pack
        self.api = api
        self.labels = {**pack.labels, **labels}
        self.stopping = threading.Event()
        self.last_poll: float | None = None
        self.backoff = PollBackoff(pack.name)
        self.health_server: HealthServer | None = None
        self._links: dict[str, str] = {}
        self._api_links: list[dict[str, Any]] = []
        self._handlers = ThreadPoolExecutor(
            pack.max_concurrent_actions, thread_name_prefix=f"flyte-action-{pack.name}"
        )
        self._running: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._poller = threading.Thread(
            target=self._poll_loop, name=f"flyte-poll-{pack.name}", daemon=True
        )
        self._stopped = threading.Event()

    @property
    def registered(self) -> bool:
        """Whether the pack has registered and knows its endpoints."""
        return bool(self._links)

    @property
    def api_links(self) -> list[dict[str, Any]]:
        """The links of the API's ``/v1`` document, found at registration."""
        return self._api_links

    def start(self, health_port: int | None = None) -> None:
        """Register (retrying until it works or ``stop()``), then start polling."""
        if health_port is not None:
            self._start_health(health_port)
        self.register()
        if self.pack.commands and not self.stopping.is_set():
            self._poller.start()

    def register(self) -> None:
        """POST the definition to the API, with backoff, until it is accepted.

        Retries forever, as upstream does, except when the API refuses the
        definition or the token (400, 401, 403, 413, 422): that raises
        ``ApiError``, since no retry can change the answer.
        """
        retrying = Retrying(
            retry=retry_if_exception(_is_transient_registration_error),
            wait=wait_random_exponential(RETRY_FIRST_DELAY, RETRY_MAX_DELAY),
            stop=stop_when_event_set(self.stopping),
            sleep=self._pause,
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            retrying(self._register_once)
        except ClientError:
            if not self.stopping.is_set():
                raise

    def _link(self, rel: str) -> str:
        if rel not in self._links:
            raise LinkNotFound(rel, f"pack {self.pack.name}: it is not registered")
        return self._links[rel]

    def _pause(self, seconds: float) -> None:
        self.stopping.wait(seconds)

    def _register_once(self) -> None:
        self._api_links = self.api.discover()
        packs_url = find_link(self._api_links, REL_PACKS, "the API's /v1 links")
        body = self.pack.definition(self.labels)
        answer = self.api.request("POST", packs_url, json=body, expect=(201,)).json()
        if not isinstance(answer, dict):
            answer = {}
        links = answer.get("links", [])
        self._links = {
            REL_EVENT: find_link(links, REL_EVENT, "the registration answer"),
            REL_TAKE: find_link(links, REL_TAKE, "the registration answer"),
        }
        logger.info("Pack %s registered as %s", self.pack.name, answer.get("id"))

    def _log_retry(self, state: RetryCallState) -> None:
        # One warning per outage; "registered as" says when it is over.
        level = logging.WARNING if state.attempt_number == 1 else logging.DEBUG
        logger.log(
            level,
            "Pack %s registration failed (attempt %d), retrying with backoff "
            "up to %.0f s: %s",
            self.pack.name,
            state.attempt_number,
            RETRY_MAX_DELAY,
            state.outcome.exception() if state.outcome else "?",
        )

    def send_event(self, name: str, payload: Any = None) -> str | None:
        """Send an event; the API's Location for it, when the API gives one.

        Sent with an Idempotency-Key and retried a few times on connection
        errors and 409, 502, 503, 504 (``ApiClient.post_event``).
        """
        response = self.api.post_event(
            self._link(REL_EVENT), event_body(Event(name, payload))
        )
        location: str | None = response.headers.get("Location")
        return location

    def _poll_loop(self) -> None:
        while not self.stopping.is_set():
            if not self._has_free_handler():
                continue
            try:
                action = self._take()
            except Exception as ex:  # noqa: BLE001 - the loop must outlive any poll
                logger.debug("Pack %s poll failed", self.pack.name, exc_info=True)
                self.backoff.failed(ex)
                action = None
            if action is None:
                self.stopping.wait(self.backoff.delay(self.pack.polling_interval))
                continue
            self._dispatch(action)

    def _has_free_handler(self) -> bool:
        """True when a handler is free; else wait up to an interval for one to end.

        Waiting returns ``False`` either way, so the loop checks ``stopping``
        before it polls.
        """
        running = self._running_handlers()
        if len(running) < self.pack.max_concurrent_actions:
            return True
        logger.debug(
            "Pack %s: all %d handlers busy, waiting for one before polling",
            self.pack.name,
            len(running),
        )
        wait(running, timeout=self.pack.polling_interval, return_when=FIRST_COMPLETED)
        return False

    def _running_handlers(self) -> set[Future[None]]:
        with self._lock:
            self._running = {future for future in self._running if not future.done()}
            return set(self._running)

    def _take(self) -> dict[str, Any] | None:
        try:
            response = self.api.request(
                "POST",
                self._link(REL_TAKE),
                content=b"null",
                headers={"Content-Type": "application/json"},
                expect=(200, 204),
            )
        except ApiError as ex:
            self._on_take_error(ex)
            return None
        except ClientError as ex:
            self.backoff.failed(ex)
            return None
        self.last_poll = time.monotonic()
        self.backoff.answered()
        if response.status_code == 204:
            return None
        action = response.json()
        if not isinstance(action, dict):
            logger.error(
                "Pack %s took an action it cannot read: %r", self.pack.name, action
            )
            return None
        return action

    def _on_take_error(self, ex: ApiError) -> None:
        if ex.status == 404:
            # The pack was deleted (dead-pack expiry): register again rather
            # than exit as the Go client does. The old links stay meanwhile, so
            # a send_event() from another thread fails with an answer, not a crash.
            logger.warning(
                "Pack %s is unknown to the API; registering again", self.pack.name
            )
            self.register()
            return
        self.backoff.failed(ex)

    def _dispatch(self, action: dict[str, Any]) -> None:
        try:
            future = self._handlers.submit(self._run_action, action)
        except RuntimeError:
            # stop() gave up waiting for this loop and shut the pool down.
            logger.warning(
                "Pack %s stopped before action %s could start; its lease expires",
                self.pack.name,
                action.get("id"),
            )
            return
        with self._lock:
            self._running.add(future)

    def _run_action(self, action: dict[str, Any]) -> None:
        try:
            self._post_result(action, self.handle(action))
        except Exception:  # noqa: BLE001 - a future would keep it out of sight
            logger.exception(
                "Pack %s could not finish action %s", self.pack.name, action.get("id")
            )

    def handle(self, action: dict[str, Any]) -> Event:
        """Run the action's handler; its event, or a FATAL event saying why not."""
        name = action.get("command")
        command = self.pack.commands.get(str(name))
        if command is None:
            known = sorted(self.pack.commands)
            return fatal_event(f"no handler for command {name!r}; known: {known}")
        try:
            # Typed as object: a handler's annotation is a promise, not a check.
            event: object = command.handler(action.get("input"))
        except Exception as ex:  # noqa: BLE001 - a failing handler is a FATAL result
            logger.exception("Pack %s command %s failed", self.pack.name, name)
            return fatal_event(f"{type(ex).__name__}: {ex}")
        if not isinstance(event, Event):
            return fatal_event(f"handler of {name!r} returned {type(event).__name__}")
        return event

    def _post_result(self, action: dict[str, Any], event: Event) -> None:
        try:
            url = find_link(action.get("links", []), REL_RESULT, "the action")
        except ClientError as ex:
            logger.error("Pack %s cannot report a result: %s", self.pack.name, ex)
            return
        retrying = Retrying(
            retry=retry_if_exception(_is_transient_result_error),
            wait=wait_random_exponential(RETRY_FIRST_DELAY, RETRY_MAX_DELAY),
            stop=stop_after_delay(DEFAULT_RESULT_RETRY_SECONDS),
            reraise=True,
        )
        body = event_body(event)
        try:
            retrying(self.api.request, "POST", url, json=body, expect=(202,))
        except ClientError as ex:
            logger.error(
                "Pack %s result %s for %s was not accepted: %s",
                self.pack.name,
                event.name,
                url,
                ex,
            )

    def in_flight(self) -> int:
        """How many handlers are running now."""
        return len(self._running_handlers())

    def stop(self, timeout: float = DEFAULT_SHUTDOWN_SECONDS) -> None:
        """Stop polling, let running handlers finish and report, then close.

        Handlers still running after ``timeout`` cannot be interrupted: they
        go on in the pool, and the process exits once they return.
        """
        self.stopping.set()
        if self._poller.is_alive():
            self._poller.join(timeout)
        _, unfinished = wait(self._running_handlers(), timeout=timeout)
        self._handlers.shutdown(wait=False, cancel_futures=True)
        if unfinished:
            logger.warning(
                "Pack %s stopped waiting for %d unfinished action(s); "
                "the process exits when they return",
                self.pack.name,
                len(unfinished),
            )
        if self.health_server is not None:
            self.health_server.stop()
        self.api.close()
        self._stopped.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until ``stop()`` has finished; ``False`` on timeout."""
        return self._stopped.wait(timeout)

    def _start_health(self, port: int) -> None:
        try:
            self.health_server = HealthServer(pack_checks(self), port)
        except OSError as ex:
            # The port is the operator's choice and may be taken: keep running.
            logger.warning(
                "Pack %s health endpoint not started on port %d (%s); "
                "set FLYTE_PACK_HEALTH_PORT to another port, or 0 for none",
                self.pack.name,
                port,
                ex.strerror or ex,
            )
            return
        self.health_server.start()
        logger.info(
            "Pack %s health on port %d", self.pack.name, self.health_server.port
        )


def _is_transient_registration_error(ex: BaseException) -> bool:
    if isinstance(ex, ApiError):
        return ex.status not in _PERMANENT_STATUSES
    return isinstance(ex, ClientError)


def _is_transient_result_error(ex: BaseException) -> bool:
    # A 4xx means the action is gone, another pack's, or no longer PENDING (its
    # lease expired and another hand-out has it): retrying cannot change that.
    if isinstance(ex, ApiError):
        return not 400 <= ex.status < 500
    return isinstance(ex, ClientError)
