"""The HTTP pack: command ``Request`` makes one HTTP request and answers ``Response``,
or ``RequestFailed`` when it could not be made (bad input included, so flows can
react to it rather than stop on a FATAL action).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from flyte import __version__
from flyte.packs import options
from flyte.packs.errors import HostNotAllowed
from flyte.packs.errors import InvalidRequest
from flyte.packs.http_input import Request
from flyte.packs.http_input import parse_request
from flyte.sdk import Event
from flyte.sdk import Pack
from flyte.sdk.definition import DEFAULT_POLLING_INTERVAL

logger = logging.getLogger(__name__)

DEFAULT_NAME = "HTTP"
#: Seconds a request may take unless its input says otherwise.
DEFAULT_TIMEOUT_SECONDS = 30.0
#: Bytes of a response body kept; the rest is not read.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
USER_AGENT = f"flyte-http-pack/{__version__}"


@dataclass(frozen=True)
class HttpSettings:
    """Limits of every request."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    #: Lower-case host names requests may go to; empty allows any.
    allowed_hosts: frozenset[str] = frozenset()


def send(request: Request, settings: HttpSettings) -> Event:
    """Make ``request``: ``Response``, or ``RequestFailed`` saying why not."""
    started = time.monotonic()
    try:
        with _client(request, settings) as client:
            with client.stream(
                request.method,
                # httpx's params= would replace the URL's own query: merge them.
                httpx.URL(request.url).copy_merge_params(request.params),
                headers=request.headers,
                content=request.content,
                json=request.json,
            ) as response:
                body, truncated = _read_capped(response, settings.max_body_bytes)
    except InvalidRequest as ex:
        return failed(request.url, str(ex))
    except httpx.HTTPError as ex:
        return failed(request.url, _describe(ex))
    elapsed_ms = round((time.monotonic() - started) * 1000)
    return Event("Response", _response_payload(response, body, truncated, elapsed_ms))


def failed(url: Any, error: str) -> Event:
    """The ``RequestFailed`` event."""
    return Event("RequestFailed", {"url": url, "error": error})


def _client(request: Request, settings: HttpSettings) -> httpx.Client:
    def check_host(outgoing: httpx.Request) -> None:
        host = outgoing.url.host.lower()
        if settings.allowed_hosts and host not in settings.allowed_hosts:
            allowed = ", ".join(sorted(settings.allowed_hosts))
            raise HostNotAllowed(f"host {host!r} is not allowed (allowed: {allowed})")

    # One client per request: nothing to close when the pack stops, and the
    # host check runs again on every redirect.
    return httpx.Client(
        timeout=request.timeout or settings.timeout,
        follow_redirects=request.follow_redirects,
        headers={"User-Agent": USER_AGENT},
        event_hooks={"request": [check_host]},
    )


def _read_capped(response: httpx.Response, limit: int) -> tuple[bytes, bool]:
    body = bytearray()
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) > limit:
            # Stop reading: closing the stream drops the rest of the body.
            return bytes(body[:limit]), True
    return bytes(body), False


def _response_payload(
    response: httpx.Response, body: bytes, truncated: bool, elapsed_ms: int
) -> dict[str, Any]:
    text = body.decode(response.encoding or "utf-8", errors="replace")
    payload: dict[str, Any] = {
        "status": response.status_code,
        "headers": dict(response.headers.items()),
        "body": text,
        "url": str(response.url),
        "elapsed_ms": elapsed_ms,
    }
    if truncated:
        payload["truncated"] = True
    elif _is_json(response):
        try:
            payload["json"] = json.loads(text)
        except ValueError:
            pass  # says JSON but is not: the body is still there as text
    return payload


def _is_json(response: httpx.Response) -> bool:
    kind = str(response.headers.get("Content-Type", ""))
    kind = kind.split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def _describe(ex: httpx.HTTPError) -> str:
    if isinstance(ex, httpx.TimeoutException):
        return f"timed out ({type(ex).__name__})"
    return f"{type(ex).__name__}: {ex}" if str(ex) else type(ex).__name__


def build_pack(
    name: str = DEFAULT_NAME,
    settings: HttpSettings | None = None,
    *,
    polling_interval: float = DEFAULT_POLLING_INTERVAL,
) -> Pack:
    """The HTTP pack: one command, ``Request``."""
    settings = settings or HttpSettings()
    pack = Pack(name, polling_interval=polling_interval)

    @pack.command("Request", events=["Response", "RequestFailed"])
    def request(value: Any) -> Event:
        try:
            parsed = parse_request(value)
        except InvalidRequest as ex:
            url = value.get("url") if isinstance(value, dict) else value
            return failed(url if isinstance(url, str) else None, f"invalid input: {ex}")
        event = send(parsed, settings)
        logger.info("%s %s: %s", parsed.method, parsed.url, event.name)
        return event

    return pack


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """Run the HTTP pack until SIGINT or SIGTERM."""
    prog = "flyte pack run http"
    parser = options.OptionParser(prog, "Make HTTP requests for Flyte flows.", environ)
    options.add_common(parser, DEFAULT_NAME)
    parser.option(
        "--timeout",
        env="FLYTE_HTTP_TIMEOUT",
        type=options.positive_float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="seconds a request may take unless its input sets timeout",
    )
    parser.option(
        "--max-body-bytes",
        env="FLYTE_HTTP_MAX_BODY_BYTES",
        type=options.positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        help="bytes of a response body kept; longer bodies are flagged truncated",
    )
    parser.option(
        "--allow-host",
        env="FLYTE_HTTP_ALLOWED_HOSTS",
        default=[],
        repeat=True,
        help="a host requests may go to; repeat it, or comma-separate the "
        "variable; none means any host",
    )
    args = parser.parse(argv)
    hosts = frozenset(host.strip().lower() for host in args.allow_host)
    settings = HttpSettings(args.timeout, args.max_body_bytes, hosts)
    pack = build_pack(args.name, settings, polling_interval=args.polling_interval)
    return options.run(prog, pack, environ)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
