"""The OpenAPI document matches the routes, is valid, and the app conforms to it."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

import falcon
import openapi_spec_validator
import pytest
import yaml
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
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
from flyte.queue import WorkQueue
from flyte.store import Stores
from flyte.store import connect
from flyte.store import open_stores
from tests.builders import ECHO_FLOW
from tests.builders import make_pack_body
from tests.conftest import FakeClock
from tests.conftest import drain
from workers.broker import build_broker
from workers.queue import DramatiqQueue

#: Where the document sits in the schema registry of the contract tests.
DOC_URI = "urn:flyte:openapi"
#: The methods of an OpenAPI path item.
OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
YAML = "application/x-yaml"
PARAM = re.compile(r"\{[^}]*\}")
#: Upstream's quickstart flow, in its YAML and pongo2 syntax.
QUICKSTART = (
    Path(__file__).resolve().parents[1] / "data" / "flows" / "quickstart.yaml"
).read_text()


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
        ("/v1/packs/{packId}/events", "post"): "postEvent",
        ("/v1/packs/{packId}/actions/take", "post"): "takeAction",
        ("/v1/packs/{packId}/actions/{actionId}/result", "post"): "actionResult",
        ("/v1/events/{eventId}", "get"): "getEvent",
        ("/v1/audit/flows", "get"): "findFlows",
        ("/v1/audit/flows/{correlationId}", "get"): "getFlowExecution",
        ("/v1/flows", "get"): "listFlows",
        ("/v1/flows", "post"): "createFlow",
        ("/v1/flows/{flowName}", "get"): "getFlow",
        ("/v1/flows/{flowName}", "delete"): "deleteFlow",
        ("/v1/datastore", "get"): "listDatastoreItems",
        ("/v1/datastore/{key}", "get"): "getDatastoreItem",
        ("/v1/datastore/{key}", "put"): "storeDatastoreItem",
        ("/v1/datastore/{key}", "delete"): "deleteDatastoreItem",
    }.items() <= operation_ids.items()
    assert None not in operation_ids.values()
    assert len(set(operation_ids.values())) == len(operation_ids)


def test_every_operation_is_tagged_with_a_declared_tag(
    document: dict[str, Any],
) -> None:
    declared = {tag["name"] for tag in document["tags"]}
    assert {"info", "pack", "event", "action", "flow", "datastore"} <= declared
    assert "flowAudit" in declared
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in OPERATIONS:
                assert set(operation["tags"]) <= declared, f"{method} {path}"


# --- validity -------------------------------------------------------------------


def test_document_is_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "flyte"


def test_document_is_ascii() -> None:
    text = resources.files("api").joinpath("openapi.yaml").read_bytes()
    assert text.isascii()


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


def _enforced(name: str) -> Draft202012Validator:
    """The validator of ``flyte/schemas/<name>.json``, the schema the app enforces."""
    text = resources.files("flyte.schemas").joinpath(f"{name}.json").read_text()
    return Draft202012Validator(json.loads(text))


@pytest.mark.parametrize("body", _SAMPLE_BODIES, ids=json.dumps)
def test_registration_schema_agrees_with_the_one_the_app_enforces(
    body: Any, registry: Registry
) -> None:
    enforced = _enforced("pack").is_valid(body)
    documented = _validator("/components/schemas/PackRegistration", registry)
    assert documented.is_valid(body) == enforced


def _flow_body(name: Any = "deploy", **step: Any) -> dict[str, Any]:
    """A one-step flow; keyword arguments replace (or, as None, null) step keys."""
    base: dict[str, Any] = {
        "id": "s",
        "event": {"name": "Msg", "packName": "Slack"},
        "command": {"name": "Run", "packName": "Shell"},
    }
    return {"name": name, "steps": [{**base, **step}]}


def _with_event(**event: Any) -> dict[str, Any]:
    return _flow_body(event={"name": "Msg", "packName": "Slack", **event})


def _with_command(**command: Any) -> dict[str, Any]:
    return _flow_body(command={"name": "Run", "packName": "Shell", **command})


_SAMPLE_FLOWS = [
    yaml.safe_load(QUICKSTART),
    _flow_body(),
    {"name": "empty", "steps": []},
    {"name": "described", "description": "two\nlines", "steps": [], "extra": 1},
    _flow_body(id=""),
    _flow_body(dependsOn=None),
    _flow_body(dependsOn=["s"], criteria="{{ a }}\n{{ b }}", context={"k": "v"}),
    _with_event(packLabels=None),
    _with_event(packLabels={"env": "{{ Event.Payload.env }}"}),
    _with_command(input=None),
    _with_command(input=[1, {"a": None}, "x"]),
    _with_command(packLabels={"env": "prod"}, input={"k": [True, 1.5]}),
    {"name": "no-steps"},
    {"steps": []},
    {"name": "", "steps": []},
    {"name": "a/b", "steps": []},
    {"name": "a\n", "steps": []},
    {"name": "a\nb", "steps": []},
    {"name": 7, "steps": []},
    {"name": "n", "description": None, "steps": []},
    {"name": "n", "steps": None},
    {"name": "n", "steps": [{}]},
    _flow_body(id=1),
    _flow_body(id="s\n"),
    _flow_body(dependsOn=[1]),
    _flow_body(dependsOn="s"),
    _flow_body(context=None),
    _flow_body(context={"k": 1}),
    _flow_body(criteria=None),
    _with_event(packName=None),
    _with_event(name="Msg\n"),
    _with_event(packLabels={"env": 1}),
    _with_command(name=["Run"]),
    _with_command(packLabels=["env"]),
    _flow_body(command=None),
    {},
    [],
    "deploy",
]


@pytest.mark.parametrize("body", _SAMPLE_FLOWS, ids=json.dumps)
def test_flow_document_schema_agrees_with_the_one_the_app_enforces(
    body: Any, registry: Registry
) -> None:
    enforced = _enforced("flow").is_valid(body)
    documented = _validator("/components/schemas/FlowDocument", registry)
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


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/health", "/v1/packs", "/v1/flows", "/v1/swagger"]
)
def test_get_responses_conform(
    client: testing.TestClient, document: dict[str, Any], registry: Registry, path: str
) -> None:
    result = client.simulate_get(path)
    assert result.status_code == 200
    assert_conforms(result, document, registry, path, "GET")


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/health", "/v1/packs", "/v1/flows", "/v1/swagger"]
)
def test_yaml_responses_conform(
    client: testing.TestClient, document: dict[str, Any], registry: Registry, path: str
) -> None:
    posted = client.simulate_post("/v1/packs", json=make_pack_body(labels={"a": "b"}))
    assert posted.status_code == 201
    posted = client.simulate_post("/v1/flows", json=_flow_body())
    assert posted.status_code == 201
    result = client.simulate_get(path, headers={"Accept": YAML})
    assert result.status_code == 200
    assert result.headers["content-type"].startswith(YAML)
    assert_conforms(result, document, registry, path, "GET")


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/health", "/v1/packs", "/v1/flows", "/v1/swagger", "/swagger"]
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
    settings: Settings,
    stores: Stores,
    queue: WorkQueue,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    def down() -> None:
        raise ConnectionError("Connection refused")

    deps = Dependencies(
        stores=stores,
        queue=queue,
        health_checks={"mongo": down, "redis": lambda: None},
    )
    client = testing.TestClient(create_app(settings, deps))
    result = client.simulate_get("/health")
    assert result.status_code == 503
    assert_conforms(result, document, registry, "/health", "GET")
    assert client.simulate_head("/health").status_code == 503


def _failing(store: object, method: str, error: Exception) -> Any:
    """A copy of ``store`` whose ``method`` raises ``error``."""

    def fail(*args: object, **kwargs: object) -> None:
        raise error

    broken = copy.copy(store)
    setattr(broken, method, fail)
    return broken


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/v1/packs", "/v1/packs"),
        ("/v1/flows", "/v1/flows"),
        ("/v1/events/e1", "/v1/events/{eventId}"),
    ],
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
    error: Exception,
    status: int,
    path: str,
    template: str,
) -> None:
    failing = dataclasses.replace(
        stores,
        packs=_failing(stores.packs, "list_packs", error),
        flows=_failing(stores.flows, "list_flows", error),
        events=_failing(stores.events, "get", error),
    )
    deps = Dependencies(stores=failing, queue=queue, health_checks={})
    client = testing.TestClient(create_app(settings, deps))
    result = client.simulate_get(path)
    assert result.status_code == status
    assert_conforms(result, document, registry, template, "GET")


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


@pytest.mark.parametrize("path", ["/v1/packs", "/v1/flows", "/v1/flows/deploy"])
def test_method_not_allowed_error_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry, path: str
) -> None:
    result = client.simulate_put(path)
    assert result.status_code == 405
    assert "GET" in result.headers["allow"]
    assert_conforms(
        result,
        document,
        registry,
        path,
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


# --- flows ----------------------------------------------------------------------

_FLOW_BODIES = {
    "quickstart": yaml.safe_load(QUICKSTART),
    "generated ids and nulls": {
        "name": "deploy prod",
        "description": "several\nlines",
        "steps": [
            {
                "event": {"name": "Msg", "packName": "Slack", "packLabels": None},
                "command": {"name": "Run", "packName": "Shell", "input": None},
            },
            {
                "id": "step-1",
                "dependsOn": ["step-1_"],
                "event": {"name": "Out", "packName": "Shell", "packLabels": {}},
                "context": {},
                "criteria": "",
                "command": {
                    "name": "Send",
                    "packName": "Slack",
                    "packLabels": {"env": "{{ Context.env }}"},
                    "input": [1, 2.5, True, None, {"text": "{{ Event.Payload.out }}"}],
                },
            },
        ],
    },
    "no steps": {"name": "empty", "description": "", "steps": []},
}


@pytest.mark.parametrize("body", _FLOW_BODIES.values(), ids=_FLOW_BODIES.keys())
def test_flow_responses_conform(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    body: dict[str, Any],
) -> None:
    posted = client.simulate_post("/v1/flows", json=body)
    assert posted.status_code == 201
    assert_conforms(posted, document, registry, "/v1/flows", "POST")
    location = urlsplit(posted.headers["location"]).path
    assert location == "/v1/flows/" + quote(body["name"], safe="")

    listed = client.simulate_get("/v1/flows")
    assert [flow["name"] for flow in listed.json["flows"]] == [body["name"]]
    assert_conforms(listed, document, registry, "/v1/flows", "GET")

    one = client.simulate_get(location)
    assert one.status_code == 200
    assert one.json == posted.json
    assert_conforms(one, document, registry, "/v1/flows/{flowName}", "GET")
    head = client.simulate_head(location)
    assert head.status_code == 200
    assert_conforms(head, document, registry, "/v1/flows/{flowName}", "HEAD")

    deleted = client.simulate_delete(location)
    assert deleted.status_code == 204
    assert_conforms(deleted, document, registry, "/v1/flows/{flowName}", "DELETE")


def test_generated_step_ids_are_shown(client: testing.TestClient) -> None:
    posted = client.simulate_post(
        "/v1/flows", json=_FLOW_BODIES["generated ids and nulls"]
    )
    steps = posted.json["steps"]
    assert [step["id"] for step in steps] == ["step-1_", "step-1"]
    assert steps[0] == {
        "id": "step-1_",
        "event": {"name": "Msg", "packName": "Slack"},
        "command": {"name": "Run", "packName": "Shell", "input": None},
    }


def test_yaml_flow_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    headers = {"Content-Type": YAML, "Accept": YAML}
    posted = client.simulate_post("/v1/flows", body=QUICKSTART, headers=headers)
    assert posted.status_code == 201
    assert posted.headers["content-type"].startswith(YAML)
    assert_conforms(posted, document, registry, "/v1/flows", "POST")

    location = urlsplit(posted.headers["location"]).path
    one = client.simulate_get(location, headers={"Accept": YAML})
    assert yaml.safe_load(one.text)["steps"] == yaml.safe_load(QUICKSTART)["steps"]
    assert_conforms(one, document, registry, "/v1/flows/{flowName}", "GET")


def test_reposting_a_flow_conforms_and_shows_the_new_version(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    for description in ("v1", "v2"):
        body = {**_flow_body(), "description": description}
        posted = client.simulate_post("/v1/flows", json=body)
        assert posted.status_code == 201
        assert_conforms(posted, document, registry, "/v1/flows", "POST")
    listed = client.simulate_get("/v1/flows")
    assert [flow["description"] for flow in listed.json["flows"]] == ["v2"]


def test_empty_flow_list_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_get("/v1/flows")
    assert result.status_code == 200
    assert result.json["flows"] == []
    assert_conforms(result, document, registry, "/v1/flows", "GET")


def test_flow_list_conforms(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    for body in _FLOW_BODIES.values():
        assert client.simulate_post("/v1/flows", json=body).status_code == 201
    as_yaml = client.simulate_get("/v1/flows", headers={"Accept": YAML})
    assert_conforms(as_yaml, document, registry, "/v1/flows", "GET")
    result = client.simulate_get("/v1/flows")
    assert result.status_code == 200
    assert_conforms(result, document, registry, "/v1/flows", "GET")
    assert yaml.safe_load(as_yaml.text) == result.json
    flows = result.json["flows"]
    names = [flow["name"] for flow in flows]
    assert names == sorted(body["name"] for body in _FLOW_BODIES.values())
    # "empty" was posted with an empty description: left out, as in GET.
    assert [flow.get("description") for flow in flows] == [
        "several\nlines",
        None,
        "prints next UK bank holidays",
    ]


def test_documented_flow_examples_are_what_the_app_answers(
    client: testing.TestClient, document: dict[str, Any]
) -> None:
    schemas = document["components"]["schemas"]
    posted = client.simulate_post(
        "/v1/flows", json=schemas["FlowDocument"]["examples"][0]
    )
    assert posted.status_code == 201
    assert posted.json == schemas["Flow"]["examples"][0]
    assert client.simulate_get("/v1/flows").json == schemas["FlowList"]["examples"][0]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_missing_flow_error_conforms(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    method: str,
) -> None:
    result = client.simulate_request(method, "/v1/flows/nope")
    assert result.status_code == 404
    assert "nope" in result.json["description"]
    assert_conforms(result, document, registry, "/v1/flows/{flowName}", method)


def test_missing_flow_head_has_no_body(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = client.simulate_head("/v1/flows/nope")
    assert result.status_code == 404
    assert_conforms(result, document, registry, "/v1/flows/{flowName}", "HEAD")


def test_deleted_flow_is_gone(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    assert client.simulate_post("/v1/flows", json=_flow_body()).status_code == 201
    assert client.simulate_delete("/v1/flows/deploy").status_code == 204
    again = client.simulate_delete("/v1/flows/deploy")
    assert again.status_code == 404
    assert_conforms(again, document, registry, "/v1/flows/{flowName}", "DELETE")
    assert client.simulate_get("/v1/flows").json["flows"] == []


def test_invalid_flow_example_is_what_the_app_answers(
    client: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    body = _flow_body()
    body["steps"].append({**body["steps"][0], "dependsOn": ["ghost"]})
    result = client.simulate_post("/v1/flows", json=body)
    assert result.status_code == 400
    assert_conforms(result, document, registry, "/v1/flows", "POST")
    example = document["components"]["responses"]["InvalidFlow"]["content"]
    assert result.json == example["application/json"]["example"]
    assert client.simulate_get("/v1/flows/deploy").status_code == 404


_BAD_FLOWS = {
    "duplicate id, unknown dependsOn, bad template": (
        json.dumps(
            {
                "name": "deploy",
                "steps": [
                    _flow_body()["steps"][0],
                    {
                        **_flow_body()["steps"][0],
                        "dependsOn": ["s", "ghost"],
                        "criteria": "{{ broken",
                    },
                    {**_flow_body()["steps"][0], "id": "", "dependsOn": ["nobody"]},
                ],
            }
        ),
        falcon.MEDIA_JSON,
        [
            ("$.steps[1].id", "s"),
            ("$.steps[1].dependsOn[1]", "s"),
            ("$.steps[2].dependsOn[0]", "step-3"),
            ("$.steps[1].criteria", "s"),
        ],
    ),
    "schema violations": (
        json.dumps({"name": "a/b", "steps": [{"id": 1, "event": {}}]}),
        falcon.MEDIA_JSON,
        [
            ("$.name", None),
            ("$.steps[0].command", None),
            ("$.steps[0].event.name", None),
            ("$.steps[0].event.packName", None),
            ("$.steps[0].id", None),
        ],
    ),
    "YAML with a bad template": (
        QUICKSTART.replace("|integer == 0 }}", "|integer == }}"),
        YAML,
        [("$.steps[1].criteria", "send_bank_holiday_response")],
    ),
    "not YAML": ("name: [", YAML, [("line 1, column 8", None)]),
    "not JSON": ("{name: deploy", falcon.MEDIA_JSON, [("line 1, column 2", None)]),
    "empty": ("", falcon.MEDIA_JSON, [("$", None)]),
    "not an object": ("[]", falcon.MEDIA_JSON, [("$", None)]),
}


@pytest.mark.parametrize(
    ("body", "content_type", "expected"), _BAD_FLOWS.values(), ids=_BAD_FLOWS.keys()
)
def test_bad_flow_error_conforms(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    body: str,
    content_type: str,
    expected: list[tuple[str, str | None]],
) -> None:
    result = client.simulate_post(
        "/v1/flows",
        body=body,
        headers={"Content-Type": content_type, "Accept": YAML},
    )
    assert result.status_code == 400
    assert_conforms(result, document, registry, "/v1/flows", "POST")
    problems = result.json["problems"]
    assert sorted((p["location"], p.get("step")) for p in problems) == sorted(expected)
    assert client.simulate_get("/v1/flows").json["flows"] == []


_YAML_STEP = "name: n\nsteps:\n- event: {name: a, packName: b}\n"
_UNSTORABLE_FLOWS = {
    "integer beyond 64 bits": (
        json.dumps(_with_command(input=10**30)),
        falcon.MEDIA_JSON,
    ),
    "NaN": (json.dumps(_with_command(input=float("nan"))), falcon.MEDIA_JSON),
    "YAML integer key": (
        _YAML_STEP + "  context: {1: x}\n  command: {name: c, packName: d}\n",
        YAML,
    ),
    "YAML binary": (
        _YAML_STEP + "  command: {name: c, packName: d, input: !!binary aGk=}\n",
        YAML,
    ),
}


@pytest.mark.parametrize(
    ("body", "content_type"), _UNSTORABLE_FLOWS.values(), ids=_UNSTORABLE_FLOWS
)
def test_flow_values_outside_json_are_a_bad_request(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    body: str,
    content_type: str,
) -> None:
    result = client.simulate_post(
        "/v1/flows", body=body, headers={"Content-Type": content_type}
    )
    assert result.status_code == 400
    assert_conforms(result, document, registry, "/v1/flows", "POST")
    assert client.simulate_get("/v1/flows").json["flows"] == []


# --- pack runtime: events, actions, results -----------------------------------

_EVENTS = "/v1/packs/{packId}/events"
_TAKE = "/v1/packs/{packId}/actions/take"
_RESULT = "/v1/packs/{packId}/actions/{actionId}/result"
_EVENT = "/v1/events/{eventId}"
_SLACK = "/v1/packs/Slack.env.prod"


@pytest.fixture
def runtime_api(client: testing.TestClient) -> testing.TestClient:
    """Slack (``env: prod``) and Shell registered, and the echo flow stored."""
    for body in ({"name": "Slack", "labels": {"env": "prod"}}, {"name": "Shell"}):
        assert client.simulate_post("/v1/packs", json=body).status_code == 201
    assert client.simulate_post("/v1/flows", json=ECHO_FLOW).status_code == 201
    return client


def _send(api: testing.TestClient, text: str) -> testing.Result:
    body = {"event": "ReceivedMessage", "payload": {"text": text, "channel": "C1"}}
    return api.simulate_post(f"{_SLACK}/events", json=body)


def _take(
    api: testing.TestClient,
    pack: str = "Shell",
    query: str = "",
    headers: dict[str, str] | None = None,
) -> testing.Result:
    # The Go client posts `null`.
    return api.simulate_post(
        f"/v1/packs/{pack}/actions/take",
        query_string=query,
        body="null",
        headers=headers,
    )


def _path(href: str) -> str:
    return urlsplit(href).path


def _fired_action(api: testing.TestClient, posted: testing.Result) -> str:
    """The id of the action the processed event ``posted`` created."""
    page = api.simulate_get(_path(posted.headers["location"])).json
    assert page["status"] == "processed"
    [flow] = page["flows"]
    [step] = flow["steps"]
    assert step["status"] == "fired"
    return str(step["actionId"])


_EVENT_BODY = {
    "event": "ReceivedMessage",
    "payload": {"text": "echo hi", "channel": "C1"},
    "createdAt": "2022-01-02T15:04:05Z",
}
_EVENT_POSTS = {
    "JSON": (json.dumps(_EVENT_BODY), falcon.MEDIA_JSON, None),
    "YAML, answered in YAML": (
        # An unquoted time stays a string, as in upstream.
        "event: ReceivedMessage\n"
        "payload: {text: echo hi, channel: C1}\n"
        "createdAt: 2022-01-02T15:04:05Z\n",
        YAML,
        YAML,
    ),
    "JSON sent as text/plain": (json.dumps(_EVENT_BODY), "text/plain", None),
    "JSON without a Content-Type": (json.dumps(_EVENT_BODY), None, None),
}


@pytest.mark.parametrize(
    ("body", "content_type", "accept"), _EVENT_POSTS.values(), ids=_EVENT_POSTS
)
def test_posted_event_conforms(
    runtime_api: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    body: str,
    content_type: str | None,
    accept: str | None,
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if accept:
        headers["Accept"] = accept
    posted = runtime_api.simulate_post(f"{_SLACK}/events", body=body, headers=headers)
    assert posted.status_code == 202
    assert_conforms(posted, document, registry, _EVENTS, "POST")
    accepted = yaml.safe_load(posted.text)
    location = posted.headers["location"]
    assert accepted["links"] == [{"href": location, "rel": "self"}]
    assert location == f"http://example.com/v1/events/{accepted['id']}"

    # Not processed: this test runs no worker.
    page = runtime_api.simulate_get(_path(location))
    assert page.status_code == 200
    assert_conforms(page, document, registry, _EVENT, "GET")
    assert page.json == {
        "id": accepted["id"],
        "event": "ReceivedMessage",
        "pack": {"id": "Slack.env.prod", "name": "Slack", "labels": {"env": "prod"}},
        "payload": {"text": "echo hi", "channel": "C1"},
        "createdAt": "2022-01-02T15:04:05Z",
        "receivedAt": "2026-01-02T15:04:05Z",
        "status": "pending",
        "flows": [],
        "links": [{"href": location, "rel": "self"}],
    }
    head = runtime_api.simulate_head(_path(location))
    assert head.status_code == 200
    assert_conforms(head, document, registry, _EVENT, "HEAD")


_BAD_EVENTS = {
    "no event": ('{"payload": 1}', falcon.MEDIA_JSON, ["$.event"]),
    "empty event": ('{"event": ""}', falcon.MEDIA_JSON, ["$.event"]),
    "event not a string": ('{"event": 7}', falcon.MEDIA_JSON, ["$.event"]),
    "createdAt not a time": (
        '{"event": "E", "createdAt": "yesterday"}',
        falcon.MEDIA_JSON,
        ["$.createdAt"],
    ),
    "createdAt without a zone": (
        '{"event": "E", "createdAt": "2022-01-02T15:04:05"}',
        falcon.MEDIA_JSON,
        ["$.createdAt"],
    ),
    "createdAt a number": (
        '{"event": "E", "createdAt": 1641135845}',
        falcon.MEDIA_JSON,
        ["$.createdAt"],
    ),
    "both": ('{"createdAt": "x"}', falcon.MEDIA_JSON, ["$.event", "$.createdAt"]),
    "not an object": ("[]", falcon.MEDIA_JSON, ["$"]),
    "null": ("null", falcon.MEDIA_JSON, ["$"]),
    "NaN": ('{"event": "E", "payload": NaN}', falcon.MEDIA_JSON, ["$"]),
    "not JSON": ("{event: E", falcon.MEDIA_JSON, ["line 1, column 2"]),
    "not YAML": ("event: [", YAML, ["line 1, column 9"]),
    "YAML without event": ("payload: 1\n", YAML, ["$.event"]),
    "empty": ("", falcon.MEDIA_JSON, ["$"]),
}


@pytest.mark.parametrize(
    ("body", "content_type", "expected"), _BAD_EVENTS.values(), ids=_BAD_EVENTS
)
def test_bad_event_error_conforms(
    runtime_api: testing.TestClient,
    stores: Stores,
    document: dict[str, Any],
    registry: Registry,
    body: str,
    content_type: str,
    expected: list[str],
) -> None:
    result = runtime_api.simulate_post(
        f"{_SLACK}/events",
        body=body,
        headers={"Content-Type": content_type, "Accept": YAML},
    )
    assert result.status_code == 400
    assert_conforms(result, document, registry, _EVENTS, "POST")
    assert [p["location"] for p in result.json["problems"]] == expected
    assert stores.db["event"].count_documents({}) == 0


def test_bad_result_error_conforms(
    runtime_api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    stores: Stores,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    _send(runtime_api, "echo hi")
    drain(broker, worker)
    path = _path(_take(runtime_api).json["links"][0]["href"])
    events = stores.db["event"].count_documents({})
    for name, (body, content_type, expected) in _BAD_EVENTS.items():
        result = runtime_api.simulate_post(
            path, body=body, headers={"Content-Type": content_type}
        )
        assert result.status_code == 400, name
        assert_conforms(result, document, registry, _RESULT, "POST")
        assert [p["location"] for p in result.json["problems"]] == expected, name
    # Nothing was kept, and the action still waits for its result.
    assert stores.db["event"].count_documents({}) == events
    finished = runtime_api.simulate_post(path, json={"event": "Output"})
    assert finished.status_code == 202


def test_invalid_event_example_is_what_the_app_answers(
    runtime_api: testing.TestClient, document: dict[str, Any]
) -> None:
    result = runtime_api.simulate_post(
        f"{_SLACK}/events", json={"payload": 1, "createdAt": "x"}
    )
    assert result.status_code == 400
    example = document["components"]["responses"]["InvalidEvent"]["content"]
    assert result.json == example["application/json"]["example"]


_EVENT_BODY_SAMPLES = [
    {"event": "E"},
    {"event": "E", "payload": None, "createdAt": None},
    {"event": "E", "payload": [1, {"a": None}, "x", True, 2.5]},
    {"event": "E", "createdAt": "2022-01-02T15:04:05.123456789Z"},
    {"event": "E", "createdAt": "2022-01-02T17:04:05.5+02:00"},
    {"event": "E", "createdAt": "2022-01-02T15:04:05-23:59"},
    {"event": "E", "pack": {"id": "Other", "name": "Other"}, "extra": 1},
    {"event": "FATAL", "payload": "no handler for command Shell"},
    {},
    {"event": ""},
    {"event": None},
    {"event": ["E"]},
    {"payload": {"event": "E"}},
    {"event": "E", "createdAt": "x"},
    {"event": "E", "createdAt": "2022-01-02 15:04:05Z"},
    {"event": "E", "createdAt": "2022-01-02T15:04Z"},
    {"event": "E", "createdAt": 5},
    [],
    "E",
    None,
    {"event": "E", "createdAt": "2022-13-45T15:04:05Z"},
    {"event": "E", "createdAt": "2022-02-30T15:04:05Z"},
    {"event": "E", "createdAt": "2022-01-02T23:59:60Z"},
]


@pytest.mark.parametrize("body", _EVENT_BODY_SAMPLES, ids=json.dumps)
def test_event_body_schema_agrees_with_what_the_app_accepts(
    runtime_api: testing.TestClient, registry: Registry, body: Any
) -> None:
    documented = _validator("/components/schemas/EventBody", registry)
    result = runtime_api.simulate_post(f"{_SLACK}/events", body=json.dumps(body))
    assert result.status_code in (202, 400)
    assert documented.is_valid(body) == (result.status_code == 202)


def test_early_created_at_is_shown_as_rfc_3339(
    runtime_api: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    body = {"event": "E", "createdAt": "0001-01-01T00:00:00Z"}
    posted = runtime_api.simulate_post(f"{_SLACK}/events", json=body)
    assert posted.status_code == 202
    page = runtime_api.simulate_get(_path(posted.headers["location"]))
    assert page.json["createdAt"] == "0001-01-01T00:00:00Z"
    assert_conforms(page, document, registry, _EVENT, "GET")


@pytest.mark.parametrize(
    ("template", "path"),
    [
        (_EVENTS, "/v1/packs/Nope/events"),
        (_TAKE, "/v1/packs/Nope/actions/take"),
        (_RESULT, "/v1/packs/Nope/actions/abc/result"),
    ],
    ids=["postEvent", "takeAction", "actionResult"],
)
def test_unknown_pack_error_conforms(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    template: str,
    path: str,
) -> None:
    result = client.simulate_post(path, json={"event": "E"})
    assert result.status_code == 404
    assert_conforms(result, document, registry, template, "POST")
    assert result.json["description"] == "pack 'Nope' not found"


def test_take_result_and_event_pages_conform(
    runtime_api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    stores: Stores,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    posted = _send(runtime_api, "echo hello")
    drain(broker, worker)
    trigger = runtime_api.simulate_get(_path(posted.headers["location"]))
    assert_conforms(trigger, document, registry, _EVENT, "GET")
    action_id = _fired_action(runtime_api, posted)
    [started] = trigger.json["flows"]
    assert started["flow"] == "echo"
    assert started["kind"] == "started"

    taken = _take(runtime_api, query="commandName=Shell")
    assert taken.status_code == 200
    assert_conforms(taken, document, registry, _TAKE, "POST")
    result_href = f"http://example.com/v1/packs/Shell/actions/{action_id}/result"
    assert taken.json == {
        "command": "Shell",
        "input": "echo hello",
        "links": [
            {"href": result_href, "rel": "http://example.com/swagger#/actionResult"}
        ],
    }
    nothing = _take(runtime_api)
    assert nothing.status_code == 204
    assert_conforms(nothing, document, registry, _TAKE, "POST")

    body = {"event": "Output", "payload": {"stdout": "hello", "exit_code": 0}}
    finished = runtime_api.simulate_post(_path(result_href), json=body)
    assert finished.status_code == 202
    assert_conforms(finished, document, registry, _RESULT, "POST")
    result_location = finished.headers["location"]
    assert finished.json["links"] == [{"href": result_location, "rel": "self"}]
    assert result_location == f"http://example.com/v1/events/{finished.json['id']}"
    again = runtime_api.simulate_post(_path(result_href), json=body)
    assert again.status_code == 409
    assert_conforms(again, document, registry, _RESULT, "POST")
    assert again.json["description"] == (
        f"action '{action_id}' is not PENDING: it is SUCCESS"
    )

    drain(broker, worker)
    result_path = _path(result_location)
    page = runtime_api.simulate_get(result_path)
    assert page.status_code == 200
    assert_conforms(page, document, registry, _EVENT, "GET")
    assert page.json["status"] == "processed"
    assert page.json["actionId"] == action_id
    assert page.json["pack"] == {"id": "Shell", "name": "Shell"}
    [continued] = page.json["flows"]
    assert continued["kind"] == "continued"
    assert continued["correlationId"] == started["correlationId"]
    [reply] = continued["steps"]
    assert reply["id"] == "reply"
    assert reply["status"] == "fired"
    as_yaml = runtime_api.simulate_get(result_path, headers={"Accept": YAML})
    assert_conforms(as_yaml, document, registry, _EVENT, "GET")
    assert yaml.safe_load(as_yaml.text) == page.json
    head = runtime_api.simulate_head(result_path)
    assert head.status_code == 200
    assert_conforms(head, document, registry, _EVENT, "HEAD")

    # The synonym upstream read, answered in YAML.
    sent = _take(
        runtime_api, "Slack.env.prod", "actionName=SendMessage", {"Accept": YAML}
    )
    assert sent.status_code == 200
    assert_conforms(sent, document, registry, _TAKE, "POST")
    assert yaml.safe_load(sent.text)["input"] == {"channel": "C1", "text": "hello"}


def test_skipped_step_conforms(
    runtime_api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    posted = _send(runtime_api, "no echo here")
    drain(broker, worker)
    page = runtime_api.simulate_get(_path(posted.headers["location"]))
    assert_conforms(page, document, registry, _EVENT, "GET")
    [flow] = page.json["flows"]
    assert flow["steps"] == [
        {"id": "ask", "status": "skipped", "reason": "criteria false"}
    ]
    nothing = _take(runtime_api)
    assert nothing.status_code == 204
    assert_conforms(nothing, document, registry, _TAKE, "POST")


def test_fatal_result_conforms(
    runtime_api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    stores: Stores,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    _send(runtime_api, "echo boom")
    drain(broker, worker)
    taken = _take(runtime_api)
    action_id = taken.json["links"][0]["href"].split("/")[-2]
    fatal = {"event": "FATAL", "payload": "exit status 1"}
    posted = runtime_api.simulate_post(
        _path(taken.json["links"][0]["href"]), json=fatal
    )
    assert posted.status_code == 202
    assert_conforms(posted, document, registry, _RESULT, "POST")
    drain(broker, worker)
    assert stores.actions.get(action_id).state.value == "FATAL"
    page = runtime_api.simulate_get(_path(posted.headers["location"]))
    assert_conforms(page, document, registry, _EVENT, "GET")
    assert page.json["actionId"] == action_id
    assert page.json["event"] == "FATAL"
    # `reply` listens to Output, not FATAL: nothing to evaluate.
    [continued] = page.json["flows"]
    assert continued["kind"] == "continued"
    assert continued["steps"] == []


def test_result_of_an_action_never_taken_is_a_conflict(
    runtime_api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    posted = _send(runtime_api, "echo early")
    drain(broker, worker)
    action_id = _fired_action(runtime_api, posted)
    path = f"/v1/packs/Shell/actions/{action_id}/result"
    early = runtime_api.simulate_post(path, json={"event": "Output"})
    assert early.status_code == 409
    assert_conforms(early, document, registry, _RESULT, "POST")
    assert early.json["description"] == (
        f"action '{action_id}' is not PENDING: it is NEW"
    )
    # Nothing changed: the action is still there to take, then to finish.
    assert _take(runtime_api).status_code == 200
    assert runtime_api.simulate_post(path, json={"event": "Output"}).status_code == 202


def test_result_for_another_pack_is_not_found(
    runtime_api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    _send(runtime_api, "echo x")
    drain(broker, worker)
    href = _take(runtime_api).json["links"][0]["href"]
    wrong = _path(href).replace("/v1/packs/Shell/", f"{_SLACK}/")
    result = runtime_api.simulate_post(wrong, json={"event": "Output"})
    assert result.status_code == 404
    assert_conforms(result, document, registry, _RESULT, "POST")
    assert (
        runtime_api.simulate_post(_path(href), json={"event": "Output"}).status_code
        == 202
    )


def test_result_of_an_unknown_action_is_not_found(
    runtime_api: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    result = runtime_api.simulate_post(
        "/v1/packs/Shell/actions/nope/result", json={"event": "Output"}
    )
    assert result.status_code == 404
    assert_conforms(result, document, registry, _RESULT, "POST")
    assert result.json["description"] == "action 'nope' not found for this pack"
    # The action is looked up before the body is read.
    bad = runtime_api.simulate_post("/v1/packs/Shell/actions/nope/result", body="{")
    assert bad.status_code == 404
    assert_conforms(bad, document, registry, _RESULT, "POST")


def test_take_ignores_the_body(
    runtime_api: testing.TestClient, document: dict[str, Any], registry: Registry
) -> None:
    for body in ("", "{not json", "null"):
        result = runtime_api.simulate_post("/v1/packs/Shell/actions/take", body=body)
        assert result.status_code == 204
        assert_conforms(result, document, registry, _TAKE, "POST")


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_missing_event_error_conforms(
    client: testing.TestClient,
    document: dict[str, Any],
    registry: Registry,
    method: str,
) -> None:
    result = client.simulate_request(method, "/v1/events/nope")
    assert result.status_code == 404
    assert_conforms(result, document, registry, _EVENT, method)
    if method == "GET":
        assert result.json["description"] == "event 'nope' not found"


@pytest.fixture
def dead_redis_api(
    settings: Settings, stores: Stores, clock: FakeClock
) -> Iterator[testing.TestClient]:
    """The app on the test database, whose Redis does not answer."""
    dead = build_broker(
        dataclasses.replace(settings, redis_url="redis://127.0.0.1:1/0")
    )
    deps = Dependencies(
        stores=stores, queue=DramatiqQueue(dead), health_checks={}, clock=clock
    )
    yield testing.TestClient(
        create_app(settings, deps), headers={"Host": "example.com"}
    )
    dead.close()


def test_redis_down_event_error_conforms_and_nothing_is_kept(
    runtime_api: testing.TestClient,
    dead_redis_api: testing.TestClient,
    stores: Stores,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    result = _send(dead_redis_api, "echo lost?")
    assert result.status_code == 503
    assert_conforms(result, document, registry, _EVENTS, "POST")
    assert "Redis" in result.json["description"]
    assert stores.db["event"].count_documents({}) == 0


def test_redis_down_result_error_conforms_and_the_action_stays_pending(
    runtime_api: testing.TestClient,
    dead_redis_api: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
    stores: Stores,
    document: dict[str, Any],
    registry: Registry,
) -> None:
    _send(runtime_api, "echo hi")
    drain(broker, worker)
    taken = _take(runtime_api)
    path = _path(taken.json["links"][0]["href"])
    events = stores.db["event"].count_documents({})
    result = dead_redis_api.simulate_post(path, json={"event": "Output"})
    assert result.status_code == 503
    assert_conforms(result, document, registry, _RESULT, "POST")
    assert "Redis" in result.json["description"]
    assert stores.db["event"].count_documents({}) == events
    # Posted again once Redis answers, the result is accepted.
    assert runtime_api.simulate_post(path, json={"event": "Output"}).status_code == 202


@pytest.mark.parametrize(
    ("method", "template", "path"),
    [
        ("POST", _EVENTS, "/v1/packs/Slack/events"),
        ("POST", _TAKE, "/v1/packs/Shell/actions/take"),
        ("POST", _RESULT, "/v1/packs/Shell/actions/abc/result"),
        ("GET", _EVENT, "/v1/events/abc"),
    ],
    ids=["postEvent", "takeAction", "actionResult", "getEvent"],
)
def test_mongo_down_error_conforms(
    settings: Settings,
    queue: DramatiqQueue,
    document: dict[str, Any],
    registry: Registry,
    method: str,
    template: str,
    path: str,
) -> None:
    dead = connect(
        dataclasses.replace(
            settings, mongo_uri="mongodb://127.0.0.1:1/", mongo_timeout_ms=200
        )
    )
    deps = Dependencies(stores=open_stores(dead), queue=queue, health_checks={})
    client = testing.TestClient(create_app(settings, deps))
    result = client.simulate_request(method, path, json={"event": "Output"})
    dead.client.close()
    assert result.status_code == 503
    assert_conforms(result, document, registry, template, method)


def test_pack_links_lead_to_documented_runtime_operations(
    client: testing.TestClient, document: dict[str, Any]
) -> None:
    body = make_pack_body(name="Slack", labels={"env": "prod"})
    pack = client.simulate_post("/v1/packs", json=body).json
    rels = {link["rel"]: link["href"] for link in pack["links"]}
    base = "http://example.com"
    take = rels[f"{base}/swagger#!/action/takeAction"]
    assert take == f"{base}{_SLACK}/actions/take"
    assert rels[f"{base}/swagger#/event"] == f"{base}{_SLACK}/events"
    paths = document["paths"]
    assert paths[_TAKE]["post"]["operationId"] == "takeAction"
    assert paths[_TAKE]["post"]["tags"] == ["action"]
    assert paths[_EVENTS]["post"]["tags"] == ["event"]
    # Command links name the command with a documented query parameter.
    command_link = pack["commands"][0]["links"][0]["href"]
    query = urlsplit(command_link).query
    params = {
        _lookup(document, p["$ref"].removeprefix("#"))["name"]
        for p in paths[_TAKE]["post"]["parameters"]
    }
    assert query.split("=")[0] in params
    # A taken action's link rel names the result operation.
    assert paths[_RESULT]["post"]["operationId"] == "actionResult"
    assert paths[_RESULT]["post"]["tags"] == ["action"]


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
