"""How every API command finds and reaches the API: options, environment, errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

import pytest

from flyte.cli import build_parser
from flyte.cli import main
from flyte.cli.session import Session
from flyte.devserver.embedded import free_port
from tests.flyte.cli.cli import flyte


class RecordingHandler(BaseHTTPRequestHandler):
    """Answers every GET with an empty flow list; records the Authorization header."""

    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen.append(self.headers.get("Authorization"))
        body = json.dumps({"flows": [], "links": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep the test output quiet."""


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str | None]]]:
    """A local HTTP server that records Authorization headers; its URL and record."""
    seen: list[str | None] = []
    handler = type("Handler", (RecordingHandler,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_an_unreachable_api_exits_1_with_a_hint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = f"http://127.0.0.1:{free_port()}"
    run = flyte(capsys, api, "flows", "list")
    assert run.code == 1
    assert run.err.startswith(f"flyte: cannot reach {api}/v1/flows: ")
    assert run.err.endswith("(is `flyte dev` running? set FLYTE_API or --api)\n")
    assert len(run.err.splitlines()) == 1


def test_the_api_option_overrides_flyte_api(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    run = flyte(capsys, unreachable, "--api", live_api, "flows", "list", "--json")
    assert (run.code, run.json()["flows"]) == (0, [])


def test_global_options_work_after_the_command_too(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"
    run = flyte(capsys, unreachable, "packs", "list", "--api", live_api, "--json")
    assert (run.code, run.json()["packs"]) == (0, [])


def test_flyte_api_url_is_read_when_flyte_api_is_unset(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["flows", "list"], environ={"FLYTE_API_URL": live_api}) == 0
    assert capsys.readouterr().out == "No flows.\n"


def test_the_default_api_is_the_local_flyte_dev() -> None:
    session = Session(build_parser().parse_args(["flows", "list"]), {})
    assert session.client.config.api_url == "http://localhost:8080"


def test_insecure_turns_tls_verification_off() -> None:
    args = build_parser().parse_args(["flows", "list", "--insecure"])
    environ = {"FLYTE_API": "https://flyte.example.com"}
    assert Session(args, environ).client.config.verify_tls is False
    default = Session(build_parser().parse_args(["flows", "list"]), environ)
    assert default.client.config.verify_tls is True


def test_the_jwt_is_sent_as_a_bearer_token(
    recorder: tuple[str, list[str | None]], capsys: pytest.CaptureFixture[str]
) -> None:
    api, seen = recorder
    run = flyte(capsys, api, "flows", "list", environ={"FLYTE_JWT": "t0k3n"})
    assert run.code == 0, run.err
    assert seen == ["Bearer t0k3n"]


def test_no_jwt_sends_no_authorization(
    recorder: tuple[str, list[str | None]], capsys: pytest.CaptureFixture[str]
) -> None:
    api, seen = recorder
    assert flyte(capsys, api, "flows", "list").code == 0
    assert seen == [None]


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"FLYTE_API": "localhost:8080"}, "flyte: FLYTE_API: 'localhost:8080' is not"),
        ({"FLYTE_API_TIMEOUT": "soon"}, "flyte: FLYTE_API_TIMEOUT: 'soon' is not"),
    ],
    ids=["api", "timeout"],
)
def test_a_bad_client_setting_exits_2_naming_the_variable(
    capsys: pytest.CaptureFixture[str], environ: dict[str, str], message: str
) -> None:
    assert main(["flows", "list"], environ=environ) == 2
    assert capsys.readouterr().err.startswith(message)


def test_a_bad_api_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--api", "ftp://x", "flows", "list"], environ={}) == 2
    assert "FLYTE_API: 'ftp://x' is not an http(s) URL" in capsys.readouterr().err


def test_dev_reads_the_injected_environment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dev"], environ={"FLYTE_PORT": "eighty"}) == 2
    assert capsys.readouterr().err.startswith("flyte: FLYTE_PORT: ")


def test_a_command_group_without_its_action_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["flows"], environ={})
    assert exit_info.value.code == 2


def test_flyte_port_moves_the_api_when_flyte_api_is_unset(
    live_api: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # As after FLYTE_PORT=8081 flyte dev, in a shell without FLYTE_API
    port = live_api.rsplit(":", 1)[1]
    assert main(["flows", "list"], environ={"FLYTE_PORT": port}) == 0
    assert capsys.readouterr().out == "No flows.\n"


def test_flyte_api_wins_over_flyte_port() -> None:
    args = build_parser().parse_args(["flows", "list"])
    environ = {"FLYTE_API": "http://api.example.com", "FLYTE_PORT": "8081"}
    assert Session(args, environ).client.config.api_url == "http://api.example.com"
    environ = {"FLYTE_API_URL": "http://old.example.com", "FLYTE_PORT": "8081"}
    assert Session(args, environ).client.config.api_url == "http://old.example.com"


def test_flyte_port_reaches_the_example_packs_too() -> None:
    args = build_parser().parse_args(["packs", "run", "shell"])
    session = Session(args, {"FLYTE_PORT": "8081"})
    assert session.client_environ["FLYTE_API"] == "http://localhost:8081"


def test_a_bad_flyte_port_exits_2_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["flows", "list"], environ={"FLYTE_PORT": "eighty"}) == 2
    assert capsys.readouterr().err == (
        "flyte: FLYTE_PORT: 'eighty' is not a port (1..65535)\n"
    )
