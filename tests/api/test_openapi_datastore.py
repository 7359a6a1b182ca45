"""The datastore operations conform to api/openapi.yaml, on real stores."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml
from falcon import testing
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from api.app import Dependencies
from api.app import create_app
from api.app import load_openapi
from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.queue import WorkQueue
from flyte.store import Stores
from tests.api.test_datastore import description
from tests.api.test_datastore import put
from tests.api.test_datastore import value
from tests.api.test_openapi import DOC_URI
from tests.api.test_openapi import _failing
from tests.api.test_openapi import _lookup
from tests.api.test_openapi import _response_pointer
from tests.api.test_openapi import assert_conforms

LIST = "/v1/datastore"
ITEM = "/v1/datastore/{key}"
YAML = "application/x-yaml"
TEAMS = b'{"teama": {"email": "a@example.com"}}'


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The OpenAPI document shipped with the app."""
    return load_openapi()


@pytest.fixture(scope="module")
def registry(document: dict[str, Any]) -> Registry:
    """The document as a schema registry, as tests/api/test_openapi.py builds it."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(DOC_URI, resource)


def assert_raw_value_conforms(
    result: testing.Result, document: dict[str, Any], content_type: str
) -> None:
    """A raw value: any media type is documented, with the stored Content-Type."""
    response = _lookup(document, _response_pointer(document, ITEM, "GET", 200))
    assert "*/*" in response["content"]
    for header in response["headers"]:
        assert result.headers.get(header), f"missing {header} header"
    assert result.headers["content-type"] == content_type


def test_the_datastore_operations_are_tagged_and_named_as_upstream(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    operations = {
        (path, method): operation["operationId"]
        for path in (LIST, ITEM)
        for method, operation in paths[path].items()
        if method != "parameters"
    }
    assert operations == {
        (LIST, "get"): "listDatastoreItems",
        (LIST, "head"): "listDatastoreItemsHead",
        (ITEM, "get"): "getDatastoreItem",
        (ITEM, "head"): "getDatastoreItemHead",
        (ITEM, "put"): "storeDatastoreItem",
        (ITEM, "delete"): "deleteDatastoreItem",
    }
    for path in (LIST, ITEM):
        for method, operation in paths[path].items():
            if method != "parameters":
                assert operation["tags"] == ["datastore"]


def test_the_datastore_block_follows_the_flow_block(document: dict[str, Any]) -> None:
    paths = list(document["paths"])
    start = paths.index("/v1/flows/{flowName}") + 1
    assert paths[start : start + 2] == [LIST, ITEM]


def test_datastore_links_lead_to_documented_operations(
    client: testing.TestClient, document: dict[str, Any]
) -> None:
    v1 = client.simulate_get("/v1").json
    [href] = [
        link["href"]
        for link in v1["links"]
        if link["rel"].endswith("datastore/listDatastoreItems")
    ]
    assert href == "http://example.com/v1/datastore"
    help_link = client.simulate_get(LIST).json["links"][2]
    assert help_link["href"].endswith("/swagger#/datastore")
    assert "datastore" in {tag["name"] for tag in document["tags"]}


@pytest.mark.parametrize("accept", ["application/json", YAML])
def test_list_responses_conform(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    accept: str,
) -> None:
    empty = client.simulate_get(LIST, headers={"Accept": accept})
    assert_conforms(empty, document, registry, LIST, "GET")
    put(client, "teams", description("teams.json"), value(TEAMS))
    put(client, "bare", value(b"x", None))
    full = client.simulate_get(LIST, headers={"Accept": accept})
    assert full.status_code == 200
    assert_conforms(full, document, registry, LIST, "GET")
    if accept == YAML:
        assert [i["key"] for i in yaml.safe_load(full.text)["datastore"]] == [
            "bare",
            "teams",
        ]
    head = client.simulate_head(LIST)
    assert head.status_code == 200
    assert_conforms(head, document, registry, LIST, "HEAD")


def test_item_lifecycle_conforms(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    path = "/v1/datastore/teams"
    created = put(client, "teams", description("teams.json"), value(TEAMS))
    assert created.status_code == 201
    assert_conforms(created, document, registry, ITEM, "PUT")
    replaced = put(client, "teams", value(TEAMS))
    assert replaced.status_code == 204
    assert_conforms(replaced, document, registry, ITEM, "PUT")

    got = client.simulate_get(path)
    assert got.status_code == 200
    assert_raw_value_conforms(got, document, "application/json")
    head = client.simulate_head(path)
    assert_conforms(head, document, registry, ITEM, "HEAD")

    deleted = client.simulate_delete(path)
    assert deleted.status_code == 204
    assert_conforms(deleted, document, registry, ITEM, "DELETE")


@pytest.mark.parametrize("method", ["GET", "HEAD", "DELETE"])
def test_missing_item_errors_conform(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    method: str,
) -> None:
    result = client.simulate_request(method, "/v1/datastore/nope")
    assert result.status_code == 404
    assert_conforms(result, document, registry, ITEM, method)


_BAD_UPLOADS = {
    "json": ({"Content-Type": "application/json"}, b'{"value": "x"}'),
    "no boundary": ({"Content-Type": "multipart/form-data"}, b"x"),
    "no value": None,
    "empty value": None,
}


@pytest.mark.parametrize("case", _BAD_UPLOADS, ids=list(_BAD_UPLOADS))
def test_bad_upload_errors_conform(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    case: str,
) -> None:
    if case == "no value":
        result = put(client, "k", description("d"))
    elif case == "empty value":
        result = put(client, "k", value(b""))
    else:
        headers, body = _BAD_UPLOADS[case]  # type: ignore[misc]
        result = client.simulate_put("/v1/datastore/k", body=body, headers=headers)
    assert result.status_code == 400
    assert result.json["problems"]
    assert_conforms(result, document, registry, ITEM, "PUT")


def test_too_large_error_conforms(
    settings: Settings,
    stores: Stores,
    queue: WorkQueue,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    deps = Dependencies(stores=stores, queue=queue, health_checks={})
    app = create_app(dataclasses.replace(settings, datastore_max_bytes=4), deps)
    result = put(testing.TestClient(app), "k", value(b"12345"))
    assert result.status_code == 413
    assert_conforms(result, document, registry, ITEM, "PUT")


def test_method_not_allowed_error_conforms(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    result = client.simulate_post(LIST)
    assert result.status_code == 405
    assert_conforms(
        result,
        document,
        registry,
        LIST,
        "POST",
        response_pointer="/components/responses/MethodNotAllowed",
    )


@pytest.mark.parametrize(
    ("method", "path", "template", "store_method"),
    [
        ("GET", LIST, LIST, "list_items"),
        ("GET", "/v1/datastore/k", ITEM, "get"),
        ("PUT", "/v1/datastore/k", ITEM, "put"),
        ("DELETE", "/v1/datastore/k", ITEM, "delete"),
    ],
    ids=["list", "get", "put", "delete"],
)
@pytest.mark.parametrize(
    ("error", "status"),
    [
        (Unavailable("MongoDB is unavailable (AutoReconnect)"), 503),
        (KeyError("x"), 500),
    ],
    ids=["unavailable", "fault"],
)
def test_server_error_responses_conform(
    settings: Settings,
    stores: Stores,
    queue: WorkQueue,
    document: dict[str, Any],
    registry: Registry,
    method: str,
    path: str,
    template: str,
    store_method: str,
    error: Exception,
    status: int,
) -> None:
    failing = dataclasses.replace(
        stores, datastore=_failing(stores.datastore, store_method, error)
    )
    deps = Dependencies(stores=failing, queue=queue, health_checks={})
    client = testing.TestClient(create_app(settings, deps))
    if method == "PUT":
        result = put(client, "k", value(TEAMS))
    else:
        result = client.simulate_request(method, path)
    assert result.status_code == status
    assert_conforms(result, document, registry, template, method)
