"""The Datastore pages."""

from __future__ import annotations

from falcon import testing

from flyte.datastore import DatastoreItem
from flyte.store import Stores
from tests.api.console.conftest import HOSTILE
from tests.api.console.conftest import HOSTILE_SCRIPT
from tests.api.console.test_packs_flows import assert_escaped


def put(
    stores: Stores, key: str, value: bytes, content_type: str, **extra: str
) -> None:
    stores.datastore.put(DatastoreItem(key, content_type, value=value, **extra))


def test_the_datastore_page_lists_items_by_key_and_pages(
    client: testing.TestClient, stores: Stores
) -> None:
    for key in ("b", "a", "c"):
        put(stores, key, b"x", "text/plain", description=f"item {key}")
    first = client.simulate_get("/console/datastore", params={"limit": "2"})
    assert first.status_code == 200
    assert first.text.count('<tr class="row">') == 2
    assert first.text.index(">a</a>") < first.text.index(">b</a>")
    second = client.simulate_get(
        "/console/datastore", params={"limit": "2", "offset": "2"}
    )
    assert ">c</a>" in second.text and 'id="next-page"' not in second.text


def test_a_json_item_is_pretty_printed(
    client: testing.TestClient, stores: Stores
) -> None:
    put(stores, "teams", b'{"b":[1,2],"a":"x"}', "application/json")
    page = client.simulate_get("/console/datastore/teams").text
    assert 'id="datastore-value" class="json"' in page
    assert "{\n  &#34;a&#34;: &#34;x&#34;,\n  &#34;b&#34;: [\n    1," in page


def test_a_binary_item_shows_its_type_and_size(
    client: testing.TestClient, stores: Stores
) -> None:
    put(stores, "logo", bytes(range(256)) * 8, "image/png")
    page = client.simulate_get("/console/datastore/logo").text
    assert 'id="datastore-value" class="binary"' in page
    assert "image/png" in page and "2.0 KiB" in page


def test_hostile_datastore_values_render_as_text(
    client: testing.TestClient, stores: Stores
) -> None:
    hostile = (HOSTILE + HOSTILE_SCRIPT).encode()
    put(stores, "motd", hostile, "text/html", description=HOSTILE)
    put(
        stores,
        "doc",
        b'{"x": "' + hostile.replace(b'"', b"'") + b'"}',
        "application/json",
    )
    for path in (
        "/console/datastore",
        "/console/datastore/motd",
        "/console/datastore/doc",
    ):
        page = client.simulate_get(path).text
        assert_escaped(page, HOSTILE)
    assert_escaped(client.simulate_get("/console/datastore/motd").text, HOSTILE_SCRIPT)


def test_an_unknown_item_gets_the_404_page(client: testing.TestClient) -> None:
    page = client.simulate_get("/console/datastore/nope")
    assert page.status_code == 404
    assert 'id="not-found"' in page.text
