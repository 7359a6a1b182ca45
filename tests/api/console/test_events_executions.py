"""The Events and Executions pages."""

from __future__ import annotations

from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing

from tests.api.console.conftest import HOSTILE
from tests.api.console.conftest import HOSTILE_SCRIPT
from tests.api.console.test_packs_flows import assert_escaped
from tests.api.test_runtime import send
from tests.conftest import FakeClock
from tests.conftest import drain


def rows(page: testing.Result) -> int:
    return page.text.count('<tr class="row">')


def test_the_events_page_lists_events_newest_first(
    console: testing.TestClient, ran: dict[str, str]
) -> None:
    page = console.simulate_get("/console/events")
    assert page.status_code == 200
    assert rows(page) == 2
    # The Shell result came after the Slack message.
    assert page.text.index(">Output<") < page.text.index(">ReceivedMessage<")


def test_the_events_page_filters_by_pack_name_and_status(
    console: testing.TestClient, ran: dict[str, str]
) -> None:
    by_pack = console.simulate_get("/console/events", params={"pack": "Slack"})
    assert rows(by_pack) == 1 and ">ReceivedMessage<" in by_pack.text
    by_name = console.simulate_get("/console/events", params={"name": "Output"})
    assert rows(by_name) == 1 and ">Output<" in by_name.text
    failed = console.simulate_get("/console/events", params={"status": "failed"})
    assert rows(failed) == 0 and "No events match." in failed.text
    done = console.simulate_get("/console/events", params={"status": "processed"})
    assert rows(done) == 2


def test_the_events_page_filters_by_time(
    console: testing.TestClient, ran: dict[str, str], clock: FakeClock
) -> None:
    now = clock().strftime("%Y-%m-%dT%H:%M")
    later = console.simulate_get("/console/events", params={"until": now})
    assert rows(later) == 0
    since = console.simulate_get("/console/events", params={"since": now})
    assert rows(since) == 2


def test_a_bad_filter_is_a_400_page_that_says_why(
    client: testing.TestClient,
) -> None:
    page = client.simulate_get("/console/events", params={"since": "yesterday"})
    assert page.status_code == 400
    assert 'id="filter-problem"' in page.text
    assert "&#39;yesterday&#39; is not a time" in page.text


def test_the_events_page_pages_with_the_filters_kept(
    console: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    for number in range(3):
        send(console, f"hello {number}")
    drain(broker, worker)
    params = {"pack": "Slack", "limit": "2"}
    first = console.simulate_get("/console/events", params=params)
    assert rows(first) == 2
    assert 'id="next-page" href="?pack=Slack&amp;offset=2"' in first.text
    last = console.simulate_get("/console/events", params={**params, "offset": "2"})
    assert rows(last) == 1


def test_an_event_page_shows_each_step_fired_or_skipped(
    console: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    fired = send(console, "echo hi").json["id"]
    skipped = send(console, "hello").json["id"]
    drain(broker, worker)
    page = console.simulate_get(f"/console/events/{fired}").text
    outcomes = page.split('id="event-outcomes"')[1]
    assert 'class="step fired" data-step="ask"' in outcomes
    page = console.simulate_get(f"/console/events/{skipped}").text
    outcomes = page.split('id="event-outcomes"')[1]
    assert 'class="step skipped" data-step="ask"' in outcomes
    assert 'form id="replay" method="post"' in page
    assert 'name="csrf_token"' in page


def test_an_event_page_shows_a_template_error_as_failed(
    console: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    broken = {
        "name": "broken",
        "steps": [
            {
                "id": "boom",
                "event": {"packName": "Slack", "name": "ReceivedMessage"},
                "command": {
                    "packName": "Shell",
                    "name": "Shell",
                    "input": "{{ Event.Payload.text|int // 0 }}",
                },
            }
        ],
    }
    assert console.simulate_post("/v1/flows", json=broken).status_code == 201
    event_id = send(console, "7").json["id"]
    drain(broker, worker)
    page = console.simulate_get(f"/console/events/{event_id}").text
    assert 'class="step failed" data-step="boom"' in page
    assert "template error: " in page


def test_hostile_payloads_render_as_text_on_event_pages(
    console: testing.TestClient, broker: RedisBroker, worker: Worker
) -> None:
    event_id = send(console, HOSTILE + HOSTILE_SCRIPT).json["id"]
    drain(broker, worker)
    for path in ("/console/events", f"/console/events/{event_id}"):
        page = console.simulate_get(path).text
        assert_escaped(page, HOSTILE)
        assert_escaped(page, HOSTILE_SCRIPT)


def test_an_unknown_event_gets_the_404_page(client: testing.TestClient) -> None:
    page = client.simulate_get("/console/events/nope")
    assert page.status_code == 404
    assert 'id="not-found"' in page.text


def test_the_executions_page_lists_an_execution(
    console: testing.TestClient, ran: dict[str, str]
) -> None:
    page = console.simulate_get("/console/executions")
    assert page.status_code == 200
    assert rows(page) == 1
    assert f'href="/console/executions/{ran["correlation_id"]}"' in page.text


def test_the_executions_page_filters_as_the_audit_does(
    console: testing.TestClient, ran: dict[str, str]
) -> None:
    echo = console.simulate_get("/console/executions", params={"flowName": "echo"})
    assert rows(echo) == 1
    other = console.simulate_get("/console/executions", params={"flowName": "other"})
    assert rows(other) == 0
    step = console.simulate_get("/console/executions", params={"stepId": "reply"})
    assert rows(step) == 1
    bad = console.simulate_get("/console/executions", params={"limit": "x"})
    assert bad.status_code == 400


def test_the_executions_page_pages_without_repeating_one(
    console: testing.TestClient, broker: RedisBroker, worker: Worker, clock: FakeClock
) -> None:
    for number in range(3):
        send(console, f"echo {number}")
        clock.advance(seconds=1)
    drain(broker, worker)
    first = console.simulate_get("/console/executions", params={"limit": "2"})
    assert rows(first) == 2
    second = console.simulate_get(
        "/console/executions", params={"limit": "2", "offset": "2"}
    )
    assert rows(second) == 1
    assert 'id="next-page"' not in second.text


def test_an_execution_page_is_a_timeline_of_both_steps(
    console: testing.TestClient, ran: dict[str, str]
) -> None:
    page = console.simulate_get(f"/console/executions/{ran['correlation_id']}")
    assert page.status_code == 200
    timeline = page.text.split('id="timeline"')[1]
    assert "entry-trigger" in timeline
    assert 'entry-action" data-step="ask"' in timeline
    assert 'entry-action" data-step="reply"' in timeline
    assert "SUCCESS" in timeline and "NEW" in timeline
    assert "&#34;stdout&#34;: &#34;hi&#34;" in timeline


def test_an_unknown_execution_gets_the_404_page(client: testing.TestClient) -> None:
    page = client.simulate_get("/console/executions/nope")
    assert page.status_code == 404
    assert 'id="not-found"' in page.text
