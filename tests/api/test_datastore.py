"""The datastore API: multipart uploads, raw reads, the list, limits, errors."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import waitress
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from api.resources.datastore import FORM_OVERHEAD_BYTES
from flyte.config import Settings
from flyte.store import Stores
from tests.conftest import FakeClock
from workers.queue import DramatiqQueue

TEAMS = b'{"teama": {"email": "a@example.com"}}'
HELP = "http://example.com/swagger#/datastore"
#: A part: (name, content, filename or None, Content-Type or None).
Part = tuple[str, bytes, str | None, str | None]


def form(*parts: Part) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body and its headers, encoded as curl -F does."""
    boundary = uuid.uuid4().hex
    chunks = []
    for name, content, filename, content_type in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type is not None:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + content + b"\r\n")
    body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def value(content: bytes, content_type: str | None = "application/json") -> Part:
    return ("value", content, "teams.json", content_type)


def description(text: str) -> Part:
    return ("description", text.encode(), None, None)


def put(client: testing.TestClient, key: str, *parts: Part) -> testing.Result:
    body, headers = form(*parts)
    return client.simulate_put(f"/v1/datastore/{key}", body=body, headers=headers)


def test_curl_upload_creates_the_item_with_201_and_no_body(
    client: testing.TestClient,
) -> None:
    resp = put(client, "teams", description("teams.json"), value(TEAMS))
    assert resp.status_code == 201
    assert resp.content == b""
    assert "location" not in resp.headers


def test_get_returns_the_raw_bytes_with_the_stored_content_type(
    client: testing.TestClient,
) -> None:
    put(client, "teams", value(TEAMS))
    resp = client.simulate_get("/v1/datastore/teams")
    assert resp.status_code == 200
    assert resp.content == TEAMS
    assert resp.headers["content-type"] == "application/json"


def test_get_ignores_accept(client: testing.TestClient) -> None:
    put(client, "teams", value(b"a,b", "text/csv"))
    resp = client.simulate_get(
        "/v1/datastore/teams", headers={"Accept": "application/x-yaml"}
    )
    assert resp.content == b"a,b"
    assert resp.headers["content-type"] == "text/csv"


def test_every_byte_value_round_trips(client: testing.TestClient) -> None:
    data = bytes(range(256)) * 4
    put(client, "bin", value(data, "application/octet-stream"))
    resp = client.simulate_get("/v1/datastore/bin")
    assert resp.content == data
    assert resp.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("content_type", [None, " "])
def test_a_part_without_content_type_gets_upstreams_default(
    client: testing.TestClient, content_type: str | None
) -> None:
    put(client, "note", value(b"hello", content_type))
    resp = client.simulate_get("/v1/datastore/note")
    assert resp.headers["content-type"] == "text/plain; charset=us-ascii"


@pytest.mark.parametrize("content_type", ["text/plain", "Text/Plain"])
def test_a_part_sent_as_text_plain_is_stored_and_listed_as_sent(
    client: testing.TestClient, content_type: str
) -> None:
    put(client, "note", value(b"hello", content_type))
    resp = client.simulate_get("/v1/datastore/note")
    assert resp.headers["content-type"] == content_type
    listed = client.simulate_get("/v1/datastore").json["datastore"]
    assert [item["contentType"] for item in listed] == [content_type]


def test_a_value_sent_as_a_plain_field_is_accepted(
    client: testing.TestClient,
) -> None:
    resp = put(client, "note", ("value", b"hello", None, None))
    assert resp.status_code == 201
    assert client.simulate_get("/v1/datastore/note").content == b"hello"


def test_put_again_answers_204_and_replaces_the_whole_item(
    client: testing.TestClient,
) -> None:
    put(client, "teams", description("teams.json"), value(TEAMS))
    resp = put(client, "teams", value(b"x,y", "text/csv"))
    assert resp.status_code == 204
    assert client.simulate_get("/v1/datastore/teams").content == b"x,y"
    [item] = client.simulate_get("/v1/datastore").json["datastore"]
    assert "description" not in item
    assert item["contentType"] == "text/csv"


def test_head_answers_like_get_without_a_body(client: testing.TestClient) -> None:
    put(client, "teams", value(TEAMS))
    resp = client.simulate_head("/v1/datastore/teams")
    assert resp.status_code == 200
    assert resp.content == b""
    assert resp.headers["content-type"] == "application/json"


def test_list_has_upstreams_shape_sorted_by_key(client: testing.TestClient) -> None:
    put(client, "teams", description("teams.json"), value(TEAMS))
    put(client, "hosts list", value(b"h1", "text/plain; charset=utf-8"))
    resp = client.simulate_get("/v1/datastore")
    assert resp.status_code == 200
    assert list(resp.json) == ["links", "datastore"]
    assert resp.json == {
        "links": [
            {"href": "http://example.com/v1/datastore", "rel": "self"},
            {"href": "http://example.com/v1", "rel": "up"},
            {"href": HELP, "rel": "help"},
        ],
        "datastore": [
            {
                "key": "hosts list",
                "contentType": "text/plain; charset=utf-8",
                "links": [
                    {
                        "href": "http://example.com/v1/datastore/hosts%20list",
                        "rel": "self",
                    }
                ],
            },
            {
                "key": "teams",
                "contentType": "application/json",
                "description": "teams.json",
                "links": [
                    {"href": "http://example.com/v1/datastore/teams", "rel": "self"}
                ],
            },
        ],
    }


def test_empty_list_is_an_empty_array(client: testing.TestClient) -> None:
    resp = client.simulate_get("/v1/datastore")
    assert resp.json["datastore"] == []


def test_list_answers_in_yaml_on_request(client: testing.TestClient) -> None:
    put(client, "teams", value(TEAMS))
    resp = client.simulate_get(
        "/v1/datastore", headers={"Accept": "application/x-yaml"}
    )
    assert resp.headers["content-type"].startswith("application/x-yaml")
    assert "key: teams" in resp.text


def test_missing_item_is_a_json_404(client: testing.TestClient) -> None:
    resp = client.simulate_get("/v1/datastore/nope")
    assert resp.status_code == 404
    assert resp.json["description"] == "datastore item 'nope' not found"


def test_delete_answers_204_then_404(client: testing.TestClient) -> None:
    put(client, "teams", value(TEAMS))
    assert client.simulate_delete("/v1/datastore/teams").status_code == 204
    assert client.simulate_get("/v1/datastore/teams").status_code == 404
    again = client.simulate_delete("/v1/datastore/teams")
    assert again.status_code == 404
    assert again.json["status"] == 404


def test_a_body_that_is_not_multipart_is_a_400(client: testing.TestClient) -> None:
    resp = client.simulate_put("/v1/datastore/teams", json={"value": "x"})
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {
            "location": "$",
            "message": "the body must be multipart/form-data, not application/json",
        }
    ]


def test_a_form_without_value_is_a_400(client: testing.TestClient) -> None:
    resp = put(client, "teams", description("teams.json"))
    assert resp.status_code == 400
    assert resp.json["description"] == (
        "invalid datastore item: value: the form has no part named 'value'"
    )


def test_an_empty_value_is_a_400_and_nothing_is_stored(
    client: testing.TestClient,
) -> None:
    resp = put(client, "teams", value(b""))
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": "value", "message": "the value is empty"}
    ]
    assert client.simulate_get("/v1/datastore/teams").status_code == 404


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=abc"],
    ids=["no boundary", "garbage"],
)
def test_an_unreadable_form_is_a_400(
    client: testing.TestClient, content_type: str
) -> None:
    resp = client.simulate_put(
        "/v1/datastore/teams",
        body=b"not a form",
        headers={"Content-Type": content_type},
    )
    assert resp.status_code == 400
    assert resp.json["description"].startswith(
        "invalid datastore item: $: unreadable multipart form"
    )


@pytest.fixture
def small(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> testing.TestClient:
    """The API with a 16-byte datastore limit."""
    deps = Dependencies(stores=stores, queue=queue, health_checks={}, clock=clock)
    app = create_app(dataclasses.replace(settings, datastore_max_bytes=16), deps)
    return testing.TestClient(app, headers={"Host": "example.com"})


def test_a_value_at_the_limit_is_stored(small: testing.TestClient) -> None:
    assert put(small, "k", value(b"x" * 16, "text/plain")).status_code == 201


def test_a_value_above_the_limit_is_a_json_413_and_nothing_is_stored(
    small: testing.TestClient,
) -> None:
    resp = put(small, "k", value(b"x" * 17, "text/plain"))
    assert resp.status_code == 413
    assert resp.json == {
        "status": 413,
        "title": "413 Content Too Large",
        "description": "the datastore value is larger than 16 bytes",
    }
    assert small.simulate_get("/v1/datastore/k").status_code == 404


def test_a_body_far_above_the_limit_is_refused_before_it_is_parsed(
    small: testing.TestClient,
) -> None:
    garbage = b"x" * (16 + FORM_OVERHEAD_BYTES + 1)
    resp = small.simulate_put(
        "/v1/datastore/k",
        body=garbage,
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert resp.status_code == 413
    assert "request body" in resp.json["description"]


def test_the_default_limit_is_a_megabyte(client: testing.TestClient) -> None:
    assert put(client, "big", value(b"x" * 1_000_000, "text/plain")).status_code == 201
    assert len(client.simulate_get("/v1/datastore/big").content) == 1_000_000
    assert put(client, "big", value(b"x" * 1_000_001, "text/plain")).status_code == 413


# --- over a real socket -------------------------------------------------------


@pytest.fixture
def served(
    settings: Settings, stores: Stores, client: testing.TestClient
) -> Iterator[str]:
    """The test app served by waitress on a free port; yields its base URL."""
    server = waitress.create_server(client.app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_upstreams_curl_example_works(served: str, tmp_path: Path) -> None:
    teams = tmp_path / "teams.json"
    teams.write_bytes(TEAMS)

    def curl(*args: str) -> str:
        command = ["curl", "-s", "-o", "-", "-w", "\n%{http_code} %{content_type}"]
        done = subprocess.run(
            [*command, *args], capture_output=True, check=True, timeout=20
        )
        return done.stdout.decode()

    upload = [
        "-X",
        "PUT",
        "-F",
        "description=teams.json",
        "-F",
        f"value=@{teams};type=application/json",
        f"{served}/v1/datastore/teams",
    ]
    assert curl(*upload).startswith("\n201")
    assert curl(*upload).startswith("\n204")
    got = curl(f"{served}/v1/datastore/teams")
    assert got == TEAMS.decode() + "\n200 application/json"
    assert '"description": "teams.json"' in curl(f"{served}/v1/datastore")


def test_a_value_declared_json_must_be_json(client: testing.TestClient) -> None:
    resp = put(client, "teams", value(b"{not json"))
    assert resp.status_code == 400
    assert "says JSON" in resp.json["problems"][0]["message"]
    assert client.simulate_get("/v1/datastore/teams").status_code == 404


@pytest.mark.parametrize(
    "content_type", ["application/problem+json", "text/json; charset=utf-8", "x/JSON"]
)
def test_every_json_media_type_is_checked(
    client: testing.TestClient, content_type: str
) -> None:
    assert put(client, "k", value(b"\t\xc3\xa9", content_type)).status_code == 400
    assert put(client, "k", value(b'\t"\xc3\xa9"', content_type)).status_code == 201


@pytest.mark.parametrize(
    "content_type", ["application/json(", "json", "a/b\x01", "é/x"]
)
def test_a_content_type_that_is_no_media_type_is_refused(
    client: testing.TestClient, content_type: str
) -> None:
    resp = put(client, "k", value(b"1", content_type))
    assert resp.status_code == 400
    message = resp.json["problems"][0]["message"]
    assert "not a media type" in message or "must be ASCII" in message
