"""The OpenAPI document matches the routes, is valid, and the app conforms to it."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import falcon
import openapi_spec_validator
import pytest
import yaml
from falcon import testing
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from referencing import Registry
from referencing import Resource
from referencing.jsonschema import DRAFT202012

from api.app import Dependencies
from api.app import create_app
from api.app import load_openapi
from api.routes import ROUTES
from flyte.config import Settings
from flyte.errors import Unavailable
from flyte.pack import Pack
from flyte.store import Stores
from flyte.store.packs import PackStore
from tests.builders import make_pack_body

#: Where the document sits in the schema registry of the contract tests.
DOC_URI = "urn:flyte:openapi"
#: The methods of an OpenAPI path item.
OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
YAML = "application/x-yaml"
PARAM = re.compile(r"\{[^}]*\}")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The OpenAPI document shipped with the app."""
    return load_openapi()


@pytest.fixture(scope="module")
def registry(document: dict[str, Any]) -> Registry:
    """A schema registry holding the whole document, so its ``$ref``s resolve."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    return Registry().with_resource(DOC_URI, resource)


# --- route coverage --------------------------------------------------------------


def _normalise(template: str) -> str:
    return PARAM.sub("{}", template)


def _served(app: falcon.App) -> set[tuple[str, str]]:
    """(normalised template, METHOD) for every responder of every route in ROUTES."""
    served = set()
    for template, _ in ROUTES:
        path = PARAM.sub("x", template)
        found = app._router.find(path)
        assert found is not None, f"{template} is in ROUTES but not routed"
        resource, _, _, routed = found
        assert routed == template
        methods = {
            method
            for method in falcon.COMBINED_METHODS
            if callable(getattr(resource, f"on_{method.lower()}", None))
        }
        if "GET" in methods:
            methods.add("HEAD")
        served |= {(_normalise(template), method) for method in methods}
    return served


def _documented(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (_normalise(path), method.upper())
        for path, item in document["paths"].items()
        for method in item
        if method in OPERATIONS
    }


def test_every_route_is_documented(
    client: testing.TestClient, document: dict[str, Any]
) -> None:
    missing = _served(client.app) - _documented(document)
    assert not missing, f"served but not in api/openapi.yaml: {sorted(missing)}"


def test_every_documented_operation_is_served(
    client: testing.TestClient, document: dict[str, Any]
) -> None:
    extra = _documented(document) - _served(client.app)
    assert not extra, f"in api/openapi.yaml but not served: {sorted(extra)}"


def test_operation_ids_follow_upstream_doc_rels(document: dict[str, Any]) -> None:
    operation_ids = {
        (path, method): operation.get("operationId")
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in OPERATIONS
    }
    assert {
        ("/", "get"): "info",
        ("/v1", "get"): "v1",
        ("/health", "get"): "health",
        ("/v1/swagger", "get"): "swagger",
        ("/v1/packs", "get"): "listPacks",
        ("/v1/packs", "post"): "registerPack",
        ("/v1/packs/{packId}", "get"): "getPack",
        ("/v1/packs/{packId}", "delete"): "deletePack",
    }.items() <= operation_ids.items()
    assert None not in operation_ids.values()
    assert len(set(operation_ids.values())) == len(operation_ids)


def test_every_operation_is_tagged_with_a_declared_tag(
    document: dict[str, Any],
) -> None:
    declared = {tag["name"] for tag in document["tags"]}
    assert {"info", "pack"} <= declared
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                assert set(operation["tags"]) <= declared, f"{method} {path}"


# --- validity -------------------------------------------------------------------


def test_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "flyte"


def test_document_passes_the_openapi_spec_validator(document: dict[str, Any]) -> None:
    openapi_spec_validator.validate(document)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_ref_resolves(document: dict[str, Any], registry: Registry) -> None:
    refs = set(_refs(document))
    assert refs
    resolver = registry.resolver(base_uri=DOC_URI)
    for ref in sorted(refs):
        assert ref.startswith("#/components/"), ref
        resolver.lookup(ref)


def test_every_schema_is_a_valid_json_schema(document: dict[str, Any]) -> None:
    for name, schema in document["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as ex:
            pytest.fail(f"components.schemas.{name}: {ex.message}")


def _examples(node: Any, pointer: str = "") -> Iterator[tuple[Any, str]]:
    """(example, pointer to its schema) for every example in the document."""
    if isinstance(node, dict):
        if "example" in node and "schema" in node:
            yield node["example"], pointer + "/schema"
        if isinstance(node.get("examples"), list):
            yield from ((example, pointer) for example in node["examples"])
        for key, value in node.items():
            yield from _examples(value, pointer + _pointer(str(key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _examples(value, f"{pointer}/{index}")


def test_examples_match_their_schemas(
    document: dict[str, Any], registry: Registry
) -> None:
    examples = list(_examples(document))
    assert len(examples) > 10
    for example, pointer in examples:
        _assert_valid(example, pointer, registry)


_SAMPLE_BODIES = [
    make_pack_body(),
    make_pack_body(labels={"env": "prod"}, links=None, events=None, commands=None),
    make_pack_body(labels={"env": 1}),
    make_pack_body(labels=["env"]),
    make_pack_body(name=7),
    make_pack_body(commands=[{"name": "Run", "events": [1]}]),
    make_pack_body(links=[{"href": 1}]),
    {},
    [],
    "Slack",
]


@pytest.mark.parametrize("body", _SAMPLE_BODIES, ids=json.dumps)
def test_registration_schema_agrees_with_the_one_the_app_enforces(
    body: Any, registry: Registry
) -> None:
    text = resources.files("flyte.schemas").joinpath("pack.json").read_text()
    enforced = Draft202012Validator(json.loads(text)).is_valid(body)
    documented = _validator("/components/schemas/PackRegistration", registry)
    assert documented.is_valid(body) == enforced


# --- contract tests against the running app -----------------------------------


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _validator(pointer: str, registry: Registry) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{DOC_URI}#{pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _assert_valid(instance: Any, pointer: str, registry: Registry) -> None:
    errors = list(_validator(pointer, registry).iter_errors(instance))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}" for e in errors
    )


def _response_pointer(
    document: dict[str, Any], path: str, method: str, status: int
) -> str:
    """The pointer to the documented response, following a ``$ref`` to components."""
    assert method.lower() in document["paths"][path], f"{method} {path} is undocumented"
    responses = document["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} does not document {status}"
    response = responses[str(status)]
    if "$ref" in response:
        return str(response["$ref"]).removeprefix("#")
    return _pointer("paths", path, method.lower(), "responses", str(status))


def _lookup(document: dict[str, Any], pointer: str) -> Any:
    node: Any = document
    for part in pointer.split("/")[1:]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def assert_conforms(
    result: testing.Result,
    document: dict[str, Any],
    registry: Registry,
    path: str,
    method: str,
    response_pointer: str | None = None,
) -> None:
    """Status, media type, headers and body of ``result`` are as documented."""
    pointer = response_pointer or _response_pointer(
        document, path, method, result.status_code
    )
    response = _lookup(document, pointer)
    for header in response.get("headers", {}):
        assert result.headers.get(header), f"missing {header} header"
    content = response.get("content")
    if not content or method.upper() == "HEAD":
        assert result.content == b""
        return
    media_type = result.headers["content-type"].split(";")[0].strip()
    assert media_type in content, f"{media_type} is not documented for {pointer}"
    body: Any = result.text
    if media_type == YAML:
        body = yaml.safe_load(result.text)
    elif media_type == falcon.MEDIA_JSON:
        body = result.json
    schema = pointer + _pointer("content", media_type, "schema")
    _assert_valid(body, schema, registry)


@pytest.mark.parametrize("path", ["/", "/v1", "/health", "/v1/packs", "/v1/swagger"])
def test_get_responses_conform(
    client: testing.TestClient, document: dict[str, Any], registry: Registry, path: str
) -> None:
    result = client.simulate_get(path)
    assert result.status_code == 200
    assert_conforms(result, document, registry, path, "GET")


@pytest.mark.parametrize("path", ["/", "/v1", "/health", "/v1/packs", "/v1/swagger"])
def test_yaml_responses_conform(
    client: testing.TestClient, document: dict[str, Any], registry: Registry, path: str
) -> None:
    posted = client.simulate_post("/v1/packs", json=make_pack_body(labels={"a": "b"}))
    assert posted.status_code == 201
    result = client.simulate_get(path, headers={"Accept": YAML})
    assert result.status_code == 200
    assert result.headers["content-type"].startswith(YAML)
    assert_conforms(result, document, registry, path, "GET")


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/health", "/v1/packs", "/v1/swagger", "/swagger"]
)
def test_head_responses_conform(
    client: testing.TestClient, document: dict[str, Any], registry: Registry, path: str
) -> None:
    result = client.simulate_head(path)
    assert result.status_code == 200
    assert_conforms(result, document, registry, path, "HEAD")


def test_the_bundled_swagger_ui_renders_openapi_3_1() -> None:
    # Swagger UI renders OpenAPI 3.1 documents from version 5 on.
    bundle = importlib.import_module("swagger_ui_bundle")
    version = re.search(r"swagger-ui-(\d+)\.", str(bundle.swagger_ui_path))
    assert version is not None and int(version.group(1)) >= 5


def test_swagger_ui_page_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_get("/swagger")
    assert result.status_code == 200
    assert_conforms(result, document, registry, "/swagger", "GET")
    assert "/v1/swagger" in result.text


def test_unhealthy_response_conforms(
    settings: Settings, stores: Stores, document: dict[str, Any], registry: Registry
) -> None:
    def down() -> None:
        raise ConnectionError("Connection refused")

    deps = Dependencies(
        stores=stores, health_checks={"mongo": down, "redis": lambda: None}
    )
    client = testing.TestClient(create_app(settings, deps))
    result = client.simulate_get("/health")
    assert result.status_code == 503
    assert_conforms(result, document, registry, "/health", "GET")
    assert client.simulate_head("/health").status_code == 503


class _FailingPackStore(PackStore):
    """A pack store whose listing fails with a given error."""

    def __init__(self, stores: Stores, error: Exception) -> None:
        super().__init__(stores.db)
        self._error = error

    def list(self) -> list[Pack]:
        raise self._error


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
    document: dict[str, Any],
    registry: Registry,
    error: Exception,
    status: int,
) -> None:
    failing = Stores(db=stores.db, packs=_FailingPackStore(stores, error))
    deps = Dependencies(stores=failing, health_checks={})
    client = testing.TestClient(create_app(settings, deps))
    result = client.simulate_get("/v1/packs")
    assert result.status_code == status
    assert_conforms(result, document, registry, "/v1/packs", "GET")


_PACK_BODIES = {
    "full": make_pack_body(labels={"env": "prod", "team": "ops"}),
    "bare": {"name": "Bare"},
    "rel-less links and null events": make_pack_body(
        commands=[{"name": "Run"}],
        events=[{"name": "Ran", "links": [{"href": "http://help/ran"}]}],
        links=[{"href": "http://help"}],
    ),
}


@pytest.mark.parametrize("body", _PACK_BODIES.values(), ids=_PACK_BODIES.keys())
def test_pack_responses_conform(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    body: dict[str, Any],
) -> None:
    posted = client.simulate_post("/v1/packs", json=body)
    assert posted.status_code == 201
    assert_conforms(posted, document, registry, "/v1/packs", "POST")
    assert posted.headers["location"].endswith(f"/v1/packs/{posted.json['id']}")

    listed = client.simulate_get("/v1/packs")
    assert [pack["id"] for pack in listed.json["packs"]] == [posted.json["id"]]
    assert_conforms(listed, document, registry, "/v1/packs", "GET")

    location = urlsplit(posted.headers["location"]).path
    one = client.simulate_get(location)
    assert one.status_code == 200
    assert_conforms(one, document, registry, "/v1/packs/{packId}", "GET")
    head = client.simulate_head(location)
    assert_conforms(head, document, registry, "/v1/packs/{packId}", "HEAD")

    deleted = client.simulate_delete(location)
    assert deleted.status_code == 204
    assert_conforms(deleted, document, registry, "/v1/packs/{packId}", "DELETE")


def test_empty_pack_list_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_get("/v1/packs")
    assert result.json["packs"] == []
    assert_conforms(result, document, registry, "/v1/packs", "GET")


def test_yaml_registration_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_post(
        "/v1/packs",
        body=yaml.safe_dump(make_pack_body()),
        headers={"Content-Type": YAML, "Accept": YAML},
    )
    assert result.status_code == 201
    assert_conforms(result, document, registry, "/v1/packs", "POST")


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_missing_pack_error_conforms(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    method: str,
) -> None:
    result = client.simulate_request(method, "/v1/packs/Nope.env.none")
    assert result.status_code == 404
    assert_conforms(result, document, registry, "/v1/packs/{packId}", method)


def test_missing_pack_head_has_no_body(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_head("/v1/packs/Nope")
    assert result.status_code == 404
    assert_conforms(result, document, registry, "/v1/packs/{packId}", "HEAD")


_BAD_BODIES = {
    "labels not a string map": json.dumps(make_pack_body(labels={"env": 1})),
    "reserved rel": json.dumps(make_pack_body(links=[{"href": "x", "rel": "setup"}])),
    "not JSON": "{name: Slack",
    "empty": "",
}


@pytest.mark.parametrize("body", _BAD_BODIES.values(), ids=_BAD_BODIES.keys())
def test_bad_registration_error_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry, body: str
) -> None:
    result = client.simulate_post("/v1/packs", body=body)
    assert result.status_code == 400
    assert result.json["problems"]
    assert_conforms(result, document, registry, "/v1/packs", "POST")


def test_errors_are_json_even_when_yaml_is_asked_for(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_get("/v1/packs/Nope", headers={"Accept": YAML})
    assert result.status_code == 404
    assert_conforms(result, document, registry, "/v1/packs/{packId}", "GET")


def test_method_not_allowed_error_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_put("/v1/packs")
    assert result.status_code == 405
    assert "GET" in result.headers["allow"]
    assert_conforms(
        result,
        document,
        registry,
        "/v1/packs",
        "PUT",
        response_pointer="/components/responses/MethodNotAllowed",
    )


def test_unknown_path_error_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_get("/v1/nothing-here")
    assert result.status_code == 404
    assert_conforms(
        result,
        document,
        registry,
        "/v1/nothing-here",
        "GET",
        response_pointer="/components/responses/NotFound",
    )


# --- the served document ---------------------------------------------------------


def test_swagger_serves_the_document_as_json_by_default(
    client: testing.TestClient, document: dict[str, Any]
) -> None:
    result = client.simulate_get("/v1/swagger")
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("application/json")
    assert result.json == document


def test_swagger_serves_the_document_as_yaml_on_request(
    client: testing.TestClient, document: dict[str, Any]
) -> None:
    result = client.simulate_get("/v1/swagger", headers={"Accept": YAML})
    assert result.status_code == 200
    assert result.headers["content-type"].startswith(YAML)
    assert yaml.safe_load(result.text) == document
