"""Bodies JSON cannot carry or MongoDB cannot store are a 400, wherever they are."""

from __future__ import annotations

import pytest
from falcon import testing

YAML = {"Content-Type": "application/x-yaml"}


@pytest.mark.parametrize(
    ("body", "headers", "location", "message"),
    [
        ('{"name": "P", "labels": {"n": NaN}}', {}, "$", "NaN is not JSON"),
        ('{"name": "P", "x": 1e400}', {}, "$.x", "numbers must be finite"),
        ('{"name": "P", "x": 100000000000000000000}', {}, "$.x", "64-bit"),
        ("name: P\nlabels: {1: x}\n", YAML, "$.labels[1]", "keys must be strings"),
        ("name: P\nx: !!binary aGk=\n", YAML, "$.x", "bytes values are not JSON"),
        ("name: P\nx: .inf\n", YAML, "$.x", "numbers must be finite"),
        ("name: P\nx: !!set {a: null}\n", YAML, "$.x", "set values are not JSON"),
    ],
    ids=["nan", "overflow", "big-int", "int-key", "binary", "yaml-inf", "set"],
)
def test_unstorable_values_are_400_with_their_location(
    client: testing.TestClient,
    body: str,
    headers: dict[str, str],
    location: str,
    message: str,
) -> None:
    resp = client.simulate_post("/v1/packs", body=body, headers=headers)
    assert resp.status_code == 400
    [problem] = resp.json["problems"]
    assert problem["location"] == location
    assert message in problem["message"]
    assert client.simulate_get("/v1/packs").json["packs"] == []


def test_yaml_dates_stay_strings(client: testing.TestClient) -> None:
    resp = client.simulate_post(
        "/v1/packs", body="name: P\nlabels: {since: 2022-01-02}\n", headers=YAML
    )
    assert resp.status_code == 201
    assert resp.json["labels"] == {"since": "2022-01-02"}


def test_non_utf8_json_is_400(client: testing.TestClient) -> None:
    resp = client.simulate_post("/v1/packs", body=b'{"name": "\xff"}')
    assert resp.status_code == 400
