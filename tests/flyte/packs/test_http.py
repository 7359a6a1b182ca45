"""The HTTP pack against a real local HTTP server, then one action through the API."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import httpx
import pytest

from flyte.packs.errors import InvalidRequest
from flyte.packs.http import HttpSettings
from flyte.packs.http import build_pack
from flyte.packs.http_input import parse_request
from flyte.sdk import Event
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_action
from tests.timing import finishes_within


class Peer(BaseHTTPRequestHandler):
    """A small real web server: each path shows one kind of answer."""

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        path = self.path.split("?")[0]
        if path == "/json":
            self._send(200, b'{"ok": true, "n": [1, 2]}', "application/json")
        elif path == "/text":
            self._send(200, "héllo".encode(), "text/plain; charset=utf-8")
        elif path == "/big":
            self._send(200, b"x" * 5000, "text/plain")
        elif path == "/slow":
            time.sleep(1.5)
            self._send(200, b"late", "text/plain")
        elif path == "/redirect":
            target = parse_qs(urlsplit(self.path).query)["to"][0]
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._echo()

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self._echo()

    def _echo(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = {
            "method": self.command,
            "path": self.path,
            "header": self.headers.get("X-Test"),
            "contentType": self.headers.get("Content-Type"),
            "body": self.rfile.read(length).decode(),
        }
        self._send(
            404 if self.path == "/missing" else 200,
            json.dumps(body).encode(),
            "application/json",
        )

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def peer() -> Iterator[str]:
    """The root URL of a real HTTP server on a free port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Peer)
    # server_close() then waits for every handler, so none (the slow one, whose
    # client gave up) writes its error into the next test's output.
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def request(value: object, **settings: Any) -> Event:
    pack = build_pack(settings=HttpSettings(**settings))
    return pack.commands["Request"].handler(value)


def test_a_json_response_has_its_document(peer: str) -> None:
    event = request(f"{peer}/json")

    assert event.name == "Response"
    assert event.payload["status"] == 200
    assert event.payload["json"] == {"ok": True, "n": [1, 2]}
    assert event.payload["body"] == '{"ok": true, "n": [1, 2]}'
    assert event.payload["headers"]["content-type"] == "application/json"
    assert event.payload["url"] == f"{peer}/json"
    assert isinstance(event.payload["elapsed_ms"], int)


def test_a_text_response_has_its_body_and_no_json(peer: str) -> None:
    event = request({"url": f"{peer}/text"})

    assert event.payload["body"] == "héllo"
    assert "json" not in event.payload


def test_method_headers_params_and_json_body_are_sent(peer: str) -> None:
    event = request(
        {
            "method": "post",
            "url": f"{peer}/echo",
            "headers": {"X-Test": "yes"},
            "params": {"q": "a b", "n": [1, 2]},
            "json": {"k": "v"},
        }
    )

    assert event.payload["json"] == {
        "method": "POST",
        "path": "/echo?q=a+b&n=1&n=2",
        "header": "yes",
        "contentType": "application/json",
        "body": '{"k":"v"}',
    }


def test_params_are_added_to_the_query_of_the_url(peer: str) -> None:
    event = request({"url": f"{peer}/echo?a=1", "params": {"b": "2"}})

    assert event.payload["json"]["path"] == "/echo?a=1&b=2"


def test_a_text_body_is_sent_as_is(peer: str) -> None:
    event = request({"method": "POST", "url": f"{peer}/echo", "body": "raw text"})

    assert event.payload["json"]["body"] == "raw text"


def test_an_error_status_is_still_a_response(peer: str) -> None:
    event = request(f"{peer}/missing")

    assert event.name == "Response"
    assert event.payload["status"] == 404


def test_a_body_beyond_the_cap_is_truncated_and_flagged(peer: str) -> None:
    event = request(f"{peer}/big", max_body_bytes=100)

    assert event.payload["body"] == "x" * 100
    assert event.payload["truncated"] is True


def test_a_slow_answer_times_out_as_request_failed(peer: str) -> None:
    with finishes_within(1):
        event = request({"url": f"{peer}/slow", "timeout": 0.2})

    assert event == Event(
        "RequestFailed", {"url": f"{peer}/slow", "error": "timed out (ReadTimeout)"}
    )


def test_a_refused_connection_is_request_failed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"

    event = request(url)

    assert event.name == "RequestFailed"
    assert event.payload["url"] == url
    assert event.payload["error"].startswith("ConnectError")


def test_a_host_outside_the_allow_list_is_refused(peer: str) -> None:
    event = request(f"{peer}/json", allowed_hosts=frozenset({"example.com"}))

    assert event == Event(
        "RequestFailed",
        {
            "url": f"{peer}/json",
            "error": "host '127.0.0.1' is not allowed (allowed: example.com)",
        },
    )


def test_an_allowed_host_is_served(peer: str) -> None:
    event = request(f"{peer}/json", allowed_hosts=frozenset({"127.0.0.1"}))

    assert event.payload["status"] == 200


def test_a_redirect_is_followed_and_checked_against_the_allow_list(peer: str) -> None:
    elsewhere = peer.replace("127.0.0.1", "localhost")
    url = f"{peer}/redirect?to={elsewhere}/json"

    followed = request(url)
    refused = request(url, allowed_hosts=frozenset({"127.0.0.1"}))

    assert followed.payload["url"] == f"{elsewhere}/json"
    assert refused.name == "RequestFailed"
    assert "'localhost' is not allowed" in refused.payload["error"]


def test_a_redirect_is_not_followed_when_the_input_says_so(peer: str) -> None:
    event = request(
        {"url": f"{peer}/redirect?to={peer}/json", "followRedirects": False}
    )

    assert event.payload["status"] == 302


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (42, "give a URL or an object with at least 'url'"),
        ({"method": "GET"}, "'url' must be a non-empty string"),
        ("ftp://example.com", "'url' must be http(s), not 'ftp://example.com'"),
        ({"url": "http://x", "method": "BREW"}, "'method' must be one of"),
        (
            {"url": "http://x", "headers": {"a": 1}},
            "'headers' must be an object of strings",
        ),
        (
            {"url": "http://x", "body": "a", "json": {}},
            "give 'body' or 'json', not both",
        ),
        ({"url": "http://x", "timeout": 0}, "'timeout' must be above 0"),
        ({"url": "http://x", "verb": "GET"}, "unknown key(s) ['verb']"),
    ],
)
def test_bad_input_is_request_failed_saying_why(value: object, error: str) -> None:
    event = request(value)

    assert event.name == "RequestFailed"
    assert event.payload["error"].startswith(f"invalid input: {error}")


def test_a_plain_string_is_a_get_of_that_url() -> None:
    parsed = parse_request(" https://example.com/a ")

    assert (parsed.method, parsed.url) == ("GET", "https://example.com/a")


def test_params_must_be_scalars_or_lists() -> None:
    with pytest.raises(InvalidRequest, match="'params.q' must be"):
        parse_request({"url": "http://x", "params": {"q": {"nested": 1}}})


def test_the_http_pack_answers_an_action_of_a_flow_through_the_api(
    live_api: str, peer: str
) -> None:
    # Given a flow from a trigger pack's Go event to HTTP Request, both packs up
    post_flow(
        live_api,
        {
            "name": "http-get",
            "steps": [
                {
                    "id": "get",
                    "event": {"packName": "Trigger", "name": "Go"},
                    "command": {
                        "packName": "HTTP",
                        "name": "Request",
                        "input": {"url": "{{ Event.Payload.url }}"},
                    },
                }
            ],
        },
    )
    trigger = {"name": "Trigger", "events": [{"name": "Go"}]}
    assert httpx.post(f"{live_api}/v1/packs", json=trigger).status_code == 201
    runner = start(build_pack(polling_interval=0.5), live_api)
    try:
        # When the trigger pack sends its event
        sent = httpx.post(
            f"{live_api}/v1/packs/Trigger/events",
            json={"event": "Go", "payload": {"url": f"{peer}/json"}},
        )
        assert sent.status_code == 202

        # Then HTTP makes the request and reports the response
        action = wait_for_action(live_api, "http-get", "get")
    finally:
        runner.stop()
    assert action["state"]["value"] == "SUCCESS"
    assert action["result"]["event"] == "Response"
    assert action["result"]["payload"]["json"] == {"ok": True, "n": [1, 2]}
