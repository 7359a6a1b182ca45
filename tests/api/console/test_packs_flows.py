"""The Packs and Flows pages."""

from __future__ import annotations

import html

from falcon import testing

from flyte.store import Stores
from tests.api.console.conftest import HOSTILE
from tests.api.console.conftest import HOSTILE_SCRIPT
from tests.builders import ECHO_FLOW


def register(client: testing.TestClient, name: str, **labels: str) -> str:
    result = client.simulate_post("/v1/packs", json={"name": name, "labels": labels})
    assert result.status_code == 201, result.text
    return str(result.json["id"])


def assert_escaped(page: str, text: str) -> None:
    """The text is on the page as text, and nowhere as markup."""
    assert html.escape(text, quote=False) in page or html.escape(text) in page
    assert text not in page


def test_the_packs_page_lists_packs_with_status_and_labels(
    client: testing.TestClient,
) -> None:
    register(client, "Shell", env="prod")
    page = client.simulate_get("/console/packs")
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert ">Shell</a>" in page.text
    assert "env=prod" in page.text
    assert "badge-live" in page.text


def test_the_packs_page_pages(client: testing.TestClient) -> None:
    for number in range(3):
        register(client, f"Pack{number}")
    first = client.simulate_get("/console/packs", params={"limit": "2"})
    assert first.text.count('<tr class="row">') == 2
    assert 'id="next-page" href="?offset=2"' in first.text
    last = client.simulate_get("/console/packs", params={"limit": "2", "offset": "2"})
    assert last.text.count('<tr class="row">') == 1
    assert 'id="next-page"' not in last.text
    assert 'id="first-page"' in last.text


def test_a_pack_page_shows_its_waiting_and_in_flight_actions(
    console: testing.TestClient, ran: dict[str, str], stores: Stores
) -> None:
    slack = next(p for p in stores.packs.list_packs() if p.name == "Slack")
    page = console.simulate_get(f"/console/packs/{slack.id}")
    assert page.status_code == 200
    waiting = page.text.split('id="waiting-actions"')[1].split("</table>")[0]
    # The reply to Slack waits for a take.
    assert "SendMessage" in waiting
    assert "No action in flight." in page.text


def test_a_taken_action_shows_its_lease_and_taker(
    console: testing.TestClient, ran: dict[str, str], stores: Stores
) -> None:
    taken = console.simulate_post("/v1/packs/Slack/actions/take", body="null")
    assert taken.status_code == 200
    slack = next(p for p in stores.packs.list_packs() if p.name == "Slack")
    page = console.simulate_get(f"/console/packs/{slack.id}")
    pending = page.text.split('id="pending-actions"')[1].split("</table>")[0]
    assert "SendMessage" in pending
    assert f'href="/console/packs/{slack.id}">Slack</a>' in pending


def test_an_unknown_pack_gets_the_404_page(client: testing.TestClient) -> None:
    page = client.simulate_get("/console/packs/nope")
    assert page.status_code == 404
    assert 'id="not-found"' in page.text


def test_hostile_pack_names_and_labels_render_as_text(
    client: testing.TestClient,
) -> None:
    pack_id = register(client, HOSTILE, env=HOSTILE_SCRIPT)
    for path in ("/console/packs", f"/console/packs/{pack_id}"):
        page = client.simulate_get(path).text
        assert_escaped(page, HOSTILE)
        assert_escaped(page, HOSTILE_SCRIPT)


def test_the_flows_page_lists_flows(console: testing.TestClient) -> None:
    page = console.simulate_get("/console/flows")
    assert page.status_code == 200
    assert 'href="/console/flows/echo"' in page.text
    assert "Slack: ReceivedMessage" in page.text


def test_a_flow_page_draws_its_steps_and_arrows(console: testing.TestClient) -> None:
    page = console.simulate_get("/console/flows/echo").text
    graph = page.split('id="flow-graph"')[1].split("</svg>")[0]
    assert 'class="node trigger" data-step="ask"' in graph
    assert 'class="node" data-step="reply"' in graph
    assert 'data-from="ask" data-to="reply"' in graph
    assert "{{ Event.Payload.text|match:&#39;^echo &#39; }}" in page
    assert 'id="flow-executions" href="/console/executions?flowName=echo"' in page


def test_a_flow_page_lists_its_versions_and_shows_an_old_one(
    console: testing.TestClient, stores: Stores
) -> None:
    first = stores.flows.get("echo").uuid
    changed = {**ECHO_FLOW, "description": "second version"}
    assert console.simulate_post("/v1/flows", json=changed).status_code == 201
    page = console.simulate_get("/console/flows/echo").text
    versions = page.split('id="flow-versions"')[1].split("</table>")[0]
    assert versions.count('<tr class="row') == 2
    assert "second version" in page
    old = console.simulate_get("/console/flows/echo", params={"version": first})
    assert old.status_code == 200
    assert "second version" not in old.text.split('id="flow-versions"')[0]


def test_an_unknown_flow_or_version_gets_the_404_page(
    console: testing.TestClient,
) -> None:
    assert console.simulate_get("/console/flows/nope").status_code == 404
    other = console.simulate_get("/console/flows/echo", params={"version": "nope"})
    assert other.status_code == 404


def test_a_hostile_flow_description_renders_as_text(
    console: testing.TestClient,
) -> None:
    hostile = {**ECHO_FLOW, "description": HOSTILE + HOSTILE_SCRIPT}
    assert console.simulate_post("/v1/flows", json=hostile).status_code == 201
    for path in ("/console/flows", "/console/flows/echo"):
        page = console.simulate_get(path).text
        assert_escaped(page, HOSTILE)
        assert_escaped(page, HOSTILE_SCRIPT)
