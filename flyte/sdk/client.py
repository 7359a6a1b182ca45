"""HTTP calls to a Flyte API, shared by the pack SDK and the CLI.

Every call carries the bearer token, the timeout and the TLS setting of one
``ClientConfig``; transport failures become ``ApiUnreachable`` and unexpected
statuses ``ApiError`` with the server's own explanation when it gave one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import RetryCallState
from tenacity import Retrying
from tenacity import retry_if_exception
from tenacity import stop_after_attempt
from tenacity import stop_after_delay
from tenacity import wait_exponential
from tenacity import wait_random

from flyte import __version__
from flyte.sdk.config import ClientConfig
from flyte.sdk.errors import ApiError
from flyte.sdk.errors import ApiUnreachable
from flyte.sdk.errors import LinkNotFound

#: The ends of the link rels of upstream's v1 contract (the start is the server's
#: own address): a client finds every endpoint by them and never hard-codes paths.
REL_HEALTH = "info/health"
REL_PACKS = "pack/listPacks"
REL_TAKE = "takeAction"
REL_EVENT = "event"
REL_RESULT = "actionResult"
#: The header that makes a retried event count once (docs/packs.md).
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Answers after which an event is sent again with the same key: the API is
#: restarting or overloaded (502, 503, 504), or is still handling an earlier
#: try of the same event, whose API process may have died (409).
EVENT_RETRY_STATUSES = frozenset({409, 502, 503, 504})
#: An event is tried at most this many times, for at most this many seconds,
#: waiting 0.5, 1, 2, 4 s (plus up to 0.25 s of jitter) between tries.
EVENT_MAX_ATTEMPTS = 5
EVENT_RETRY_SECONDS = 10.0
EVENT_FIRST_DELAY = 0.5
EVENT_MAX_DELAY = 4.0

logger = logging.getLogger(__name__)


def find_link(links: Iterable[Mapping[str, Any]], rel_suffix: str, where: str) -> str:
    """The href of the first link whose rel ends with ``rel_suffix``."""
    for link in links:
        if str(link.get("rel", "")).endswith(rel_suffix) and link.get("href"):
            return str(link["href"])
    raise LinkNotFound(rel_suffix, where)


class ApiClient:
    """A Flyte API at ``config.api_url``, spoken to with the config's credentials."""

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        make_key: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.config = config
        self._make_key = make_key
        headers = {"Accept": "application/json", "User-Agent": f"flyte/{__version__}"}
        if config.jwt:
            headers["Authorization"] = f"Bearer {config.jwt}"
        self._http = httpx.Client(
            base_url=config.api_url,
            headers=headers,
            timeout=config.timeout,
            verify=config.verify_tls,
            transport=transport,
        )

    def request(
        self, method: str, target: str, *, expect: Collection[int], **kwargs: Any
    ) -> httpx.Response:
        """Send one request; raise unless the answer's status is in ``expect``.

        ``target`` is an absolute href from a link, or a path under the API root
        (httpx joins it to the client's ``base_url``).
        """
        request = self._http.build_request(method, target, **kwargs)
        url = str(request.url)
        if self._http.is_closed:
            # A pack's own loop may still send while the pack shuts down.
            raise ApiUnreachable(url, "the client is closed (the pack stopped)")
        try:
            response = self._http.send(request)
        except httpx.HTTPError as ex:
            raise ApiUnreachable(url, _describe(ex)) from ex
        if response.status_code not in expect:
            raise ApiError(method, url, response.status_code, error_detail(response))
        return response

    def post_event(
        self, target: str, body: Any, *, expect: Collection[int] = (202,)
    ) -> httpx.Response:
        """POST an event with a new Idempotency-Key; retry it with the same key.

        Retried on connection errors and timeouts and on 409, 502, 503 and 504,
        at most ``EVENT_MAX_ATTEMPTS`` times within ``EVENT_RETRY_SECONDS``;
        the key makes the API store and run the event once however many tries
        reach it.
        """
        headers = {IDEMPOTENCY_HEADER: f'"{self._make_key()}"'}
        retrying = Retrying(
            retry=retry_if_exception(self._is_worth_resending),
            wait=wait_exponential(EVENT_FIRST_DELAY, max=EVENT_MAX_DELAY)
            + wait_random(0, 0.25),
            stop=stop_after_attempt(EVENT_MAX_ATTEMPTS)
            | stop_after_delay(EVENT_RETRY_SECONDS),
            before_sleep=_log_resend,
            reraise=True,
        )
        response: httpx.Response = retrying(
            self.request, "POST", target, expect=expect, json=body, headers=headers
        )
        return response

    def _is_worth_resending(self, ex: BaseException) -> bool:
        if isinstance(ex, ApiError):
            return ex.status in EVENT_RETRY_STATUSES
        # A closed client stays closed: the pack is stopping.
        return isinstance(ex, ApiUnreachable) and not self._http.is_closed

    def get_json(self, target: str, **kwargs: Any) -> Any:
        """GET a JSON document that must answer 200."""
        return self.request("GET", target, expect=(200,), **kwargs).json()

    def discover(self) -> list[dict[str, Any]]:
        """The links of ``{api}/v1``: where every other endpoint is."""
        response = self.request("GET", "/v1", expect=(200,))
        body = response.json()
        links = body.get("links") if isinstance(body, dict) else None
        if not isinstance(links, list):
            raise LinkNotFound("self", f"{response.url} (no links)")
        return links

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def error_detail(response: httpx.Response) -> str:
    """The server's explanation of an error: our JSON error body, else its text."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500]
    if isinstance(body, dict) and ("title" in body or "description" in body):
        description = str(body.get("description", ""))
        problems = [
            _problem(p) for p in body.get("problems") or [] if isinstance(p, dict)
        ]
        # Our descriptions already list the problems; name only the ones they omit.
        parts = [str(body.get("title", "")), description]
        parts += [problem for problem in problems if problem not in description]
        return "; ".join(part for part in parts if part)
    return response.text.strip()[:500]


def _log_resend(state: RetryCallState) -> None:
    ex = state.outcome.exception() if state.outcome else None
    logger.warning(
        "Sending an event failed (try %d of %d), sending it again with the same "
        "Idempotency-Key: %s",
        state.attempt_number,
        EVENT_MAX_ATTEMPTS,
        ex,
    )


def _problem(problem: Mapping[str, Any]) -> str:
    where = problem.get("location") or problem.get("step") or ""
    message = str(problem.get("message", ""))
    return f"{where}: {message}" if where else message


def _describe(ex: httpx.HTTPError) -> str:
    if isinstance(ex, httpx.TimeoutException):
        return f"timed out ({type(ex).__name__})"
    return str(ex) or type(ex).__name__
