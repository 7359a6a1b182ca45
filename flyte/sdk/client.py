"""HTTP calls to a Flyte API, shared by the pack SDK and the CLI.

Every call carries the bearer token, the timeout and the TLS setting of one
``ClientConfig``; transport failures become ``ApiUnreachable`` and unexpected
statuses ``ApiError`` with the server's own explanation when it gave one.
"""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

import httpx

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


def find_link(links: Iterable[Mapping[str, Any]], rel_suffix: str, where: str) -> str:
    """The href of the first link whose rel ends with ``rel_suffix``."""
    for link in links:
        if str(link.get("rel", "")).endswith(rel_suffix) and link.get("href"):
            return str(link["href"])
    raise LinkNotFound(rel_suffix, where)


class ApiClient:
    """A Flyte API at ``config.api_url``, spoken to with the config's credentials."""

    def __init__(
        self, config: ClientConfig, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.config = config
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


def _problem(problem: Mapping[str, Any]) -> str:
    where = problem.get("location") or problem.get("step") or ""
    message = str(problem.get("message", ""))
    return f"{where}: {message}" if where else message


def _describe(ex: httpx.HTTPError) -> str:
    if isinstance(ex, httpx.TimeoutException):
        return f"timed out ({type(ex).__name__})"
    return str(ex) or type(ex).__name__
