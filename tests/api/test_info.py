"""Discovery, health, routing and content negotiation, as upstream has them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.health import CHECK_TIMEOUT_SECONDS
from flyte.health import health_redis_client
from flyte.health import mongo_check
from flyte.health import redis_check
from flyte.store import Stores
from flyte.store import connect
from tests.outages import OwnServer
from tests.outages import own_mongo
from tests.outages import own_redis
from tests.timing import finishes_within
from workers.queue import DramatiqQueue

ROOT_LINKS = [
    {"href": "http://example.com/", "rel": "self"},
    {"href": "http://example.com/swagger#/info", "rel": "help"},
    {"href": "http://example.com/v1", "rel": "http://example.com/swagger#!/info/v1"},
]
V1_LINKS = [
    {"href": "http://example.com/v1", "rel": "self"},
    {"href": "http://example.com/", "rel": "up"},
    {"href": "http://example.com/swagger#!/info/v1", "rel": "help"},
    {
        "href": "http://example.com/health",
        "rel": "http://example.com/swagger#!/info/health",
    },
    {
        "href": "http://example.com/v1/packs",
        "rel": "http://example.com/swagger#!/pack/listPacks",
    },
    {
        "href": "http://example.com/v1/flows",
        "rel": "http://example.com/swagger#!/flow/listFlows",
    },
    {
        "href": "http://example.com/v1/datastore",
        "rel": "http://example.com/swagger#!/datastore/listDatastoreItems",
    },
    {
        "href": "http://example.com/v1/audit/flows",
        "rel": "http://example.com/swagger#!/flowAudit/findFlows",
    },
    {"href": "http://example.com/v1/swagger", "rel": "http://example.com/swagger"},
]


def test_root_links_are_exactly_upstreams(client: testing.TestClient) -> None:
    resp = client.simulate_get("/")
    assert resp.status_code == 200
    assert resp.json == {"links": ROOT_LINKS}


def test_v1_links_are_exactly_upstreams_in_order(client: testing.TestClient) -> None:
    assert client.simulate_get("/v1").json == {"links": V1_LINKS}


@pytest.mark.parametrize(
    ("headers", "base"),
    [
        ({"X-Forwarded-Proto": "https"}, "https://example.com"),
        ({"X-Forwarded-Host": "original-host"}, "http://original-host"),
        (
            {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "original-host"},
            "https://original-host",
        ),
        ({"X-Flyte-Host": "flyte:9", "X-Forwarded-Host": "other"}, "http://flyte:9"),
        ({"Host": "localhost:8080"}, "http://localhost:8080"),
    ],
)
def test_base_url_follows_proxy_headers(
    client: testing.TestClient, headers: dict[str, str], base: str
) -> None:
    links = client.simulate_get("/", headers=headers).json["links"]
    assert links[0] == {"href": f"{base}/", "rel": "self"}


def test_health_is_200_when_mongo_and_redis_answer(client: testing.TestClient) -> None:
    resp = client.simulate_get("/health")
    assert resp.status_code == 200
    assert resp.json == {"status": "ok", "checks": {"mongo": "ok", "redis": "ok"}}


def test_health_is_503_naming_what_is_down(
    settings: Settings, stores: Stores, queue: DramatiqQueue
) -> None:
    def broken() -> None:
        raise ConnectionError("connection refused")

    checks = {"mongo": lambda: None, "redis": broken}
    app = create_app(
        settings, Dependencies(stores=stores, queue=queue, health_checks=checks)
    )
    resp = testing.TestClient(app).simulate_get("/health")
    assert resp.status_code == 503
    assert resp.json["description"] == "redis down"
    assert resp.json["checks"] == {"mongo": "ok", "redis": "down: connection refused"}


def test_health_reports_a_real_unreachable_redis(
    settings: Settings, stores: Stores, queue: DramatiqQueue
) -> None:
    dead = health_redis_client("redis://127.0.0.1:1/0")
    checks = {"mongo": mongo_check(stores.db), "redis": redis_check(dead)}
    app = create_app(
        settings, Dependencies(stores=stores, queue=queue, health_checks=checks)
    )
    resp = testing.TestClient(app).simulate_get("/health")
    dead.close()
    assert resp.status_code == 503
    assert resp.json["checks"]["mongo"] == "ok"
    assert resp.json["checks"]["redis"].startswith("down")


@dataclass(frozen=True)
class Outage:
    """An app whose health checks watch servers of the test's own."""

    client: testing.TestClient
    mongo: OwnServer
    redis: OwnServer

    def health_in_time(self) -> testing.Result:
        """GET /health, which must answer within the checks' time limit."""
        # The slack is for a loaded machine, and far below redis-py's retries.
        with finishes_within(CHECK_TIMEOUT_SECONDS + 0.5):
            resp = self.client.simulate_get("/health")
        return resp


@pytest.fixture
def outage(
    tmp_path: Path, settings: Settings, stores: Stores, queue: DramatiqQueue
) -> Iterator[Outage]:
    """Health checks wired as ``build_app`` wires them, on servers a test may break."""
    with own_mongo(tmp_path) as mongo, own_redis(tmp_path) as redis_server:
        db = connect(replace(settings, mongo_uri=mongo.url))
        redis_client = health_redis_client(redis_server.url)
        checks = {"mongo": mongo_check(db), "redis": redis_check(redis_client)}
        deps = Dependencies(stores=stores, queue=queue, health_checks=checks)
        client = testing.TestClient(create_app(settings, deps))
        yield Outage(client, mongo, redis_server)
        redis_client.close()
        db.client.close()


def test_health_answers_503_in_time_when_mongo_and_redis_are_stopped(
    outage: Outage,
) -> None:
    assert outage.health_in_time().status_code == 200
    outage.mongo.stop()
    outage.redis.stop()
    resp = outage.health_in_time()
    assert resp.status_code == 503
    assert resp.json["description"] == "mongo, redis down"
    assert "refused" in resp.json["checks"]["redis"]


def test_health_answers_503_in_time_when_mongo_and_redis_hang(
    outage: Outage,
) -> None:
    # Given both servers accept connections but never answer
    outage.mongo.hang()
    outage.redis.hang()
    # Then health names both, within its limit
    resp = outage.health_in_time()
    assert resp.status_code == 503
    assert resp.json["description"] == "mongo, redis down"
    # And is healthy again once they are back
    outage.mongo.resume()
    outage.redis.resume()
    assert outage.health_in_time().json == {
        "status": "ok",
        "checks": {"mongo": "ok", "redis": "ok"},
    }


def test_health_names_only_the_hung_server(outage: Outage) -> None:
    outage.redis.hang()
    resp = outage.health_in_time()
    assert resp.status_code == 503
    assert resp.json["description"] == "redis down"
    assert resp.json["checks"] == {
        "mongo": "ok",
        "redis": f"down: no answer within {CHECK_TIMEOUT_SECONDS:g} s",
    }


def test_unknown_path_is_404_json(client: testing.TestClient) -> None:
    resp = client.simulate_get("/v2/nothing")
    assert resp.status_code == 404
    assert resp.json == {
        "status": 404,
        "title": "404 Not Found",
        "description": "404 Not Found for GET /v2/nothing",
    }


def test_wrong_method_is_405_with_allow_header(client: testing.TestClient) -> None:
    resp = client.simulate_put("/v1/packs")
    assert resp.status_code == 405
    assert set(resp.headers["allow"].split(", ")) >= {"GET", "HEAD", "POST"}
    assert resp.json["status"] == 405


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/health", "/v1/packs", "/v1/swagger", "/swagger"]
)
def test_head_works_on_every_get_route(client: testing.TestClient, path: str) -> None:
    get = client.simulate_get(path)
    head = client.simulate_head(path)
    assert head.status_code == get.status_code == 200
    assert head.text == ""
    assert head.headers["content-type"] == get.headers["content-type"]


def test_yaml_response_when_accept_asks_with_parameters(
    client: testing.TestClient,
) -> None:
    resp = client.simulate_get(
        "/v1", headers={"Accept": "application/x-yaml; charset=utf-8"}
    )
    assert resp.headers["content-type"] == "application/x-yaml; charset=utf-8"
    assert yaml.safe_load(resp.text) == {"links": V1_LINKS}


def test_json_is_the_default_response(client: testing.TestClient) -> None:
    assert client.simulate_get("/v1").headers["content-type"] == "application/json"


def test_swagger_ui_page_and_assets_are_served(client: testing.TestClient) -> None:
    page = client.simulate_get("/swagger")
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]
    for src in SCRIPT_SRC.findall(page.text):
        assert client.simulate_get(src).status_code == 200, src
    assert 'data-url="/v1/swagger"' in page.text
    asset = client.simulate_get("/swagger/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert "SwaggerUIBundle" in asset.text


SCRIPT_SRC = re.compile(r'<script src="([^"]+)"></script>')
DEEP_LINKS_JS = "/swagger/flyte/swagger-deep-links.js"
#: Runs the page's script with stand-ins for the browser and Swagger UI, and
#: prints the hash it leaves and the options Swagger UI was started with.
NODE_HARNESS = """
const hash = process.argv[1];
const window = {location: {hash: hash}, history: {replaceState(state, title, url) {
  window.location.hash = url;
}}};
const document = {getElementById: (id) => ({dataset: {url: "/v1/swagger#" + id}})};
let options = null;
function SwaggerUIBundle(given) { options = given; return {}; }
SwaggerUIBundle.presets = {apis: {}};
const SwaggerUIStandalonePreset = {};
eval(require("fs").readFileSync(0, "utf8"));
const {deepLinking, url} = options;
console.log(JSON.stringify({hash: window.location.hash, deepLinking, url}));
"""


@pytest.mark.skipif(
    shutil.which("node") is None, reason="needs node to run the page script"
)
@pytest.mark.parametrize(
    ("opened", "shown"),
    [
        ("#!/action/takeAction", "#/action/takeAction"),
        ("#!/info/v1", "#/info/v1"),
        ("#/event", "#/event"),
        ("", ""),
    ],
)
def test_a_swagger_rel_opens_its_operation_in_swagger_ui(
    client: testing.TestClient, opened: str, shown: str
) -> None:
    """A rel such as /swagger#!/action/takeAction becomes Swagger UI 5's deep link."""
    script = client.simulate_get(DEEP_LINKS_JS)
    assert script.status_code == 200
    ran = subprocess.run(
        ["node", "-e", NODE_HARNESS, opened],
        input=script.text,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(ran.stdout) == {
        "hash": shown,
        "deepLinking": True,
        "url": "/v1/swagger#swagger-ui",  # read from the page's #swagger-ui
    }


def test_unexpected_failure_is_500_json_and_logged(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class ExplodingStore:
        def list_packs(self) -> list[object]:
            raise RuntimeError("boom")

    broken = replace(stores, packs=ExplodingStore())  # type: ignore[arg-type]
    app = create_app(
        settings, Dependencies(stores=broken, queue=queue, health_checks={})
    )
    resp = testing.TestClient(app).simulate_get("/v1/packs")
    assert resp.status_code == 500
    assert resp.json["status"] == 500
    assert "boom" not in resp.text
    assert "server fault on GET /v1/packs" in caplog.text
    assert "RuntimeError: boom" in caplog.text
