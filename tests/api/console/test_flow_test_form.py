"""The console's "test this flow" form, and the flows' enabled state on its pages."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.store import Stores
from tests.api.console.conftest import HOSTILE
from tests.api.test_runtime import send
from tests.builders import ECHO_FLOW
from tests.conftest import FakeClock
from tests.conftest import drain
from workers.queue import DramatiqQueue

CSRF = "test-csrf-token"
FORM = "application/x-www-form-urlencoded"


def browser(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> testing.TestClient:
    """The app as a browser sees it: a CSRF cookie, the echo flow stored."""
    deps = Dependencies(stores=stores, queue=queue, health_checks={}, clock=clock)
    client = testing.TestClient(
        create_app(settings, deps),
        headers={"Host": "example.com", "Cookie": f"flyte_csrf={CSRF}"},
    )
    assert client.simulate_post("/v1/flows", json=ECHO_FLOW).status_code == 201
    return client


def submit(client: testing.TestClient, **fields: str) -> testing.Result:
    body = urlencode({"csrf_token": CSRF, **fields})
    return client.simulate_post(
        "/console/flows/echo/test", body=body, headers={"Content-Type": FORM}
    )


def test_the_flow_page_has_the_form_prefilled_from_its_trigger_step(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    client = browser(settings, stores, queue, clock)
    page = client.simulate_get("/console/flows/echo")
    assert 'action="/console/flows/echo/test"' in page.text
    assert f'<input type="hidden" name="csrf_token" value="{CSRF}">' in page.text
    assert 'name="pack_name" required value="Slack"' in page.text
    assert 'name="event_name" required value="ReceivedMessage"' in page.text


def test_the_form_shows_each_steps_verdict_and_stores_nothing(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    client = browser(settings, stores, queue, clock)
    before = stores.db.list_collection_names()
    payload = {"text": f"echo {HOSTILE}", "channel": "ops"}
    page = submit(
        client,
        pack_name="Slack",
        event_name="ReceivedMessage",
        payload=json.dumps(payload),
    )
    assert page.status_code == 200, page.text
    assert "A step fires (started)" in page.text
    assert '<tr class="row" data-step="ask">' in page.text
    assert '<span class="badge badge-fired">fired</span>' in page.text
    assert "listens to Shell/Output, not Slack/ReceivedMessage" in page.text
    # Rendered input is escaped, never markup
    assert HOSTILE not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert stores.actions.find_by_correlation("x") == []
    assert stores.db.list_collection_names() == before
    assert stores.db["action"].estimated_document_count() == 0


def test_a_result_event_answering_a_step_fires_its_dependent(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    client = browser(settings, stores, queue, clock)
    page = submit(
        client,
        pack_name="Shell",
        event_name="Output",
        payload='{"stdout": "hi"}',
        answers_step="ask",
        answers_context='{"channel": "ops"}',
    )
    assert "A step fires (continued)" in page.text
    assert '<tr class="row" data-step="reply">' in page.text


def test_a_field_that_is_not_json_gives_400_with_the_form_again(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    client = browser(settings, stores, queue, clock)
    page = submit(client, pack_name="Slack", event_name="Msg", payload="{oops")
    assert page.status_code == 400
    assert "payload: not JSON" in page.text
    assert "{oops" in page.text  # what was typed is kept


def test_the_form_without_the_csrf_token_is_refused(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    client = browser(settings, stores, queue, clock)
    resp = client.simulate_post(
        "/console/flows/echo/test",
        body="pack_name=Slack&event_name=Msg",
        headers={"Content-Type": FORM},
    )
    assert resp.status_code == 403


def test_a_paused_flow_is_marked_on_the_list_and_its_page(
    settings: Settings, stores: Stores, queue: DramatiqQueue, clock: FakeClock
) -> None:
    client = browser(settings, stores, queue, clock)
    client.simulate_put("/v1/flows/echo/enabled", json=False)
    listing = client.simulate_get("/console/flows").text
    assert '<span class="badge flow-disabled">disabled</span>' in listing
    page = client.simulate_get("/console/flows/echo").text
    assert "new events start nothing; running executions go on" in page


def test_an_event_page_shows_a_paused_flow_as_not_started(
    console: testing.TestClient,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    console.simulate_put("/v1/flows/echo/enabled", json=False)
    event_id = send(console, "echo hi").json["id"]
    drain(broker, worker)
    page = console.simulate_get(f"/console/events/{event_id}").text
    assert "· not started</h3>" in page
    assert '<p class="reason">flow disabled</p>' in page
    assert "/console/executions/" not in page.split('id="event-outcomes"')[1]
