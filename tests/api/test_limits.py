"""Input limits: body size (413); depth, alias bombs, steps and labels (400)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import pytest
from falcon import testing

from api.media import BodyLimits
from api.media import parse_json
from api.media import parse_yaml
from flyte.config import Settings
from flyte.errors import MalformedBody

YAML = {"Content-Type": "application/x-yaml"}
STEP = {
    "event": {"name": "Msg", "packName": "Slack"},
    "command": {"name": "Run", "packName": "Shell"},
}
BILLION_LAUGHS = """\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
name: P
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Small limits, so the tests send small bodies."""
    return dataclasses.replace(
        settings, max_body_bytes=2000, max_json_depth=8, max_flow_steps=3, max_labels=2
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_body_above_the_limit_is_413_json(client: testing.TestClient) -> None:
    body = json.dumps({"name": "P", "description": "x" * 3000})
    resp = client.simulate_post("/v1/packs", body=body)
    assert resp.status_code == 413
    assert resp.json["description"] == "the request body is larger than 2000 bytes"


def test_body_at_the_limit_is_read(client: testing.TestClient) -> None:
    body = json.dumps({"name": "P"}).ljust(2000)
    assert client.simulate_post("/v1/packs", body=body).status_code == 201


def test_event_body_above_the_limit_is_413(client: testing.TestClient) -> None:
    client.simulate_post("/v1/packs", json={"name": "P"})
    body = json.dumps({"event": "E", "payload": "x" * 3000})
    assert client.simulate_post("/v1/packs/P/events", body=body).status_code == 413


def test_json_deeper_than_the_limit_is_400(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/packs", body=f'{{"name": "P", "x": {nested(8)}}}')
    assert resp.status_code == 400
    assert resp.json["problems"][0]["message"] == "nesting is deeper than 8 levels"


def test_json_at_the_depth_limit_is_accepted(client: testing.TestClient) -> None:
    body = f'{{"name": "P", "x": {nested(7)}}}'
    assert client.simulate_post("/v1/packs", body=body).status_code == 201


@pytest.mark.parametrize("parse", [parse_json, parse_yaml], ids=["json", "yaml"])
def test_nesting_beyond_python_recursion_is_malformed(parse: Callable) -> None:
    # NOTE: far deeper than sys.getrecursionlimit(): the parser itself gives up.
    with pytest.raises(MalformedBody, match="nesting is deeper than 64 levels"):
        parse(nested(100_000), BodyLimits())


def test_yaml_alias_bomb_is_400(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/packs", body=BILLION_LAUGHS, headers=YAML)
    assert resp.status_code == 400
    assert "values (YAML aliases?)" in resp.json["problems"][0]["message"]


def test_flow_with_too_many_steps_is_400_at_steps(client: testing.TestClient) -> None:
    body = {"name": "f", "steps": [STEP] * 4}
    resp = client.simulate_post("/v1/flows", json=body)
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": "$.steps", "message": "more than 3 steps"}
    ]


def test_flow_at_the_step_limit_is_accepted(client: testing.TestClient) -> None:
    body = {"name": "f", "steps": [STEP] * 3}
    assert client.simulate_post("/v1/flows", json=body).status_code == 201


def test_pack_with_too_many_labels_is_400(client: testing.TestClient) -> None:
    body = {"name": "P", "labels": {"a": "1", "b": "2", "c": "3"}}
    resp = client.simulate_post("/v1/packs", json=body)
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": "$.labels", "message": "more than 2 labels"}
    ]


@pytest.mark.parametrize("part", ["event", "command"])
def test_step_with_too_many_pack_labels_is_400(
    client: testing.TestClient, part: str
) -> None:
    labels = {"a": "1", "b": "2", "c": "3"}
    step = {**STEP, part: {**STEP[part], "packLabels": labels}}
    resp = client.simulate_post("/v1/flows", json={"name": "f", "steps": [step]})
    assert resp.status_code == 400
    assert resp.json["problems"] == [
        {"location": f"$.steps[0].{part}.packLabels", "message": "more than 2 labels"}
    ]


def test_datastore_upload_keeps_its_own_limit(client: testing.TestClient) -> None:
    # The 2000-byte body limit does not apply: the datastore's 1 MB one does.
    value = b"x" * 10_000
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="value"\r\n\r\n'.encode()
        + value
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    resp = client.simulate_put("/v1/datastore/k", body=body, headers=headers)
    assert resp.status_code == 201


# NOTE: found by bench/fuzz/run_schemathesis.py: both were 500s from pymongo.
@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        (
            '{"name": "P", "labels": {"a\\u0000b": "x"}}',
            "$.labels['a\\x00b']",
            "keys must not contain NUL (MongoDB cannot store them)",
        ),
        (
            '{"name": "P", "labels": {"a": "\\udace"}}',
            "$.labels.a",
            "strings must be valid Unicode (lone surrogate)",
        ),
        (
            '{"name": "P", "labels": {"\\udace": "a"}}',
            "$.labels['\\udace']",
            "keys must be valid Unicode (lone surrogate)",
        ),
    ],
    ids=["nul-key", "surrogate-value", "surrogate-key"],
)
def test_what_mongodb_cannot_store_is_400(
    client: testing.TestClient, body: str, location: str, message: str
) -> None:
    resp = client.simulate_post("/v1/packs", body=body)
    assert resp.status_code == 400
    assert resp.json["problems"] == [{"location": location, "message": message}]


def test_paired_surrogate_escapes_are_accepted(client: testing.TestClient) -> None:
    body = '{"name": "P", "labels": {"a": "\\ud83d\\ude00"}}'
    assert client.simulate_post("/v1/packs", body=body).status_code == 201
