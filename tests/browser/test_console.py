"""The console in Chromium, against a real ``flyte dev`` holding data.

One ``flyte dev`` per test process serves every test of this module: the
quickstart carried through both steps, hostile packs, an event and a datastore
item. Every test fails on any browser console error, uncaught script error or
dialog (the ``page`` fixture), so a page that breaks the Content-Security-Policy
or runs a payload fails whatever it asserts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from dramatiq.brokers.redis import RedisBroker
from playwright.sync_api import Page
from playwright.sync_api import expect
from prometheus_client.parser import text_string_to_metric_families

from tests.browser.consoledev import IMG_PAYLOAD
from tests.browser.consoledev import SCRIPT_PAYLOAD
from tests.browser.consoledev import DevServer
from tests.browser.consoledev import post_event
from tests.browser.consoledev import quoted
from tests.browser.consoledev import run_quickstart
from tests.browser.consoledev import running_dev
from tests.browser.consoledev import screenshot
from tests.browser.consoledev import seed_hostile
from tests.browser.consoledev import wait_for
from tests.e2e.test_quickstart import REPLY_WITHIN
from tests.e2e.test_quickstart import lines_of
from tests.e2e.test_quickstart import next_line
from tests.e2e.test_quickstart import start_pack
from tests.e2e.test_quickstart import stop
from workers.messages import HANDLE_EVENT
from workers.messages import ActorAddress

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Seeded:
    """The running ``flyte dev`` and the ids of what was stored in it."""

    dev: DevServer
    correlation_id: str
    chat_event: str
    hostile: dict[str, str]

    def url(self, path: str) -> str:
        """The console URL of ``path``."""
        return f"{self.dev.base}{path}"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """``flyte dev`` with the quickstart run and the hostile data stored."""
    with running_dev(tmp_path_factory.mktemp("console")) as dev:
        correlation_id, chat_event = run_quickstart(dev)
        yield Seeded(dev, correlation_id, chat_event, seed_hostile(dev))


#: Every console page (by screenshot name) and how to find its path.
PAGES: dict[str, Callable[[Seeded], str]] = {
    "overview": lambda s: "/console",
    "packs": lambda s: "/console/packs",
    "pack": lambda s: "/console/packs/Chat",
    "flows": lambda s: "/console/flows",
    "flow": lambda s: "/console/flows/chat_uptime",
    "events": lambda s: "/console/events",
    "event": lambda s: f"/console/events/{s.chat_event}",
    "executions": lambda s: "/console/executions",
    "execution": lambda s: f"/console/executions/{s.correlation_id}",
    "datastore": lambda s: "/console/datastore",
    "datastore-item": lambda s: "/console/datastore/hostile",
    "queues": lambda s: "/console/queues",
    "queue": lambda s: "/console/queues/events",
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_without_browser_errors(
    name: str, seeded: Seeded, page: Page
) -> None:
    # When an operator opens the page
    response = page.goto(seeded.url(PAGES[name](seeded)))
    # Then it answers 200 as HTML with the console's navigation and a heading
    assert response is not None and response.status == 200, name
    assert response.headers["content-type"].startswith("text/html")
    expect(page.get_by_role("navigation", name="Console")).to_be_visible()
    expect(page.locator("h1")).to_be_visible()
    # And the browser saw no error (checked by the page fixture)
    screenshot(page, name)


def test_the_quickstart_run_by_its_packs_shows_both_steps_on_its_timeline(
    seeded: Seeded, page: Page, tmp_path: Path
) -> None:
    dev = seeded.dev
    env = {**os.environ, "FLYTE_API": dev.base, "FLYTE_POLLING_INTERVAL": "0.5"}
    # Given the quickstart's Shell and Chat packs running (its flow is applied)
    shell = start_pack("shell", env, tmp_path / "shell.log")
    chat = start_pack("chat", env, tmp_path / "chat.log", interactive=True)
    assert chat.stdin is not None and chat.stdout is not None
    replies = lines_of(chat.stdout)
    try:
        # When a user types the command into the chat and the answer comes back
        chat.stdin.write(b"flyte uptime\n")
        chat.stdin.flush()
        assert "load average" in next_line(replies, "flyte> ", REPLY_WITHIN)
    finally:
        stop(shell)
        stop(chat)
        chat.stdin.close()
    # And the operator opens that execution from the flow's executions
    page.goto(seeded.url("/console/executions?flowName=chat_uptime"))
    newest = page.locator("a[href*='/console/executions/']").first
    newest.click()
    # Then its timeline shows the trigger and both steps, each succeeded, with
    # the shell's real output as the first step's result
    body = page.locator("main")
    expect(body).to_contain_text("ReceivedMessage")
    for step in ("run_uptime", "reply"):
        expect(body).to_contain_text(step)
    expect(body).to_contain_text("load average")
    assert body.inner_text().count("SUCCESS") >= 2
    assert seeded.correlation_id not in page.url


#: The path of a page showing hostile data, from the hostile ids.
HostilePath = Callable[[dict[str, str]], str]
#: Pages showing hostile data, and what each must show as text.
HOSTILE_PAGES: dict[str, tuple[HostilePath, tuple[str, ...]]] = {
    "packs": (lambda h: "/console/packs", (IMG_PAYLOAD, SCRIPT_PAYLOAD)),
    "pack": (lambda h: f"/console/packs/{quoted(h['img_pack'])}", (IMG_PAYLOAD,)),
    # Its id holds a "/" (escaped as %2F in the page's URL).
    "slash-pack": (
        lambda h: f"/console/packs/{quoted(h['script_pack'])}",
        (SCRIPT_PAYLOAD,),
    ),
    "flow": (lambda h: "/console/flows/hostile", (IMG_PAYLOAD, SCRIPT_PAYLOAD)),
    "events": (lambda h: "/console/events", (IMG_PAYLOAD,)),
    "event": (
        lambda h: f"/console/events/{h['event']}",
        (IMG_PAYLOAD, SCRIPT_PAYLOAD),
    ),
    "datastore": (lambda h: "/console/datastore", (IMG_PAYLOAD,)),
    "datastore-item": (
        lambda h: "/console/datastore/hostile",
        (IMG_PAYLOAD, SCRIPT_PAYLOAD),
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE_PAGES))
def test_hostile_markup_from_packs_shows_as_text_and_runs_nothing(
    name: str, seeded: Seeded, page: Page
) -> None:
    path, shown = HOSTILE_PAGES[name]
    # When the operator opens a page showing what hostile packs sent
    response = page.goto(seeded.url(path(seeded.hostile)))
    assert response is not None and response.status == 200
    # Then the markup is on the page as text
    text = page.locator("body").inner_text()
    for payload in shown:
        assert payload in text, f"{payload!r} not shown as text on {name}"
    # And it made no element: no <img src=x>, no script but the console's own
    assert page.locator("img[src='x']").count() == 0
    for script in page.locator("script").all():
        assert (script.get_attribute("src") or "").startswith("/console/static/")
    # And no dialog opened (the page fixture fails the test on one)


def test_replaying_an_event_from_its_page_stores_a_new_event(
    seeded: Seeded, page: Page
) -> None:
    # Given the quickstart's chat message on its event page
    page.goto(seeded.url(f"/console/events/{seeded.chat_event}"))
    # When the operator presses Replay
    page.get_by_role("button", name=re.compile("replay", re.I)).click()
    # Then the console shows the new event, marked as a replay of the original
    expect(page).not_to_have_url(re.compile(f"{seeded.chat_event}$"))
    replay_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    replay = seeded.dev.api("GET", f"/v1/events/{replay_id}")
    assert replay.status_code == 200, page.url
    assert replay.json()["replayOf"] == seeded.chat_event
    expect(page.locator("main")).to_contain_text(seeded.chat_event)
    screenshot(page, "event-replay")


def counter_total(metrics: str, name: str, **labels: str) -> float:
    """The sum of counter ``name``'s samples whose labels include ``labels``."""
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == f"{name}_total" and labels.items() <= sample.labels.items()
    )


def test_metrics_count_the_events_that_flow(seeded: Seeded) -> None:
    dev = seeded.dev
    # Given the metrics before
    before = httpx.get(f"{dev.base}/metrics", timeout=10).text
    # When the chat pack sends a message the quickstart flow's criteria skip
    event = post_event(
        dev, "Chat", "ReceivedMessage", {"message": "hello", "channelId": "C"}
    )
    wait_for(
        "the event handled",
        lambda: dev.api("GET", f"/v1/events/{event}").json()["status"] != "pending",
    )
    # And a pack sends an event without a name
    refused = dev.api("POST", "/v1/packs/Chat/events", json={"payload": {}})
    assert refused.status_code == 400
    after = httpx.get(f"{dev.base}/metrics", timeout=10).text

    # Then the web process counted one event accepted and one refused, and the
    # worker process (its counts are summed into the same /metrics) one step
    # skipped and one message handled
    def grew(name: str, **labels: str) -> float:
        return counter_total(after, name, **labels) - counter_total(
            before, name, **labels
        )

    assert grew("flyte_events_accepted", kind="event") >= 1, after
    assert grew("flyte_events_refused") >= 1, after
    assert grew("flyte_steps", outcome="skipped") >= 1, after
    assert grew("flyte_worker_messages", actor="handle_event", outcome="success") >= 1


#: An actor the workers do not define. A message for it is what a newer Flyte
#: release's API queues while the workers still run the older release (a rolling
#: upgrade, new web processes first): Dramatiq's worker cannot run it and moves
#: it to the dead-letter queue at once, without retries ("Received message for
#: undefined actor"). It is the permanent failure a real system meets, with no
#: test hook in the product.
UNKNOWN_ACTOR = ActorAddress("handle_event_v2", HANDLE_EVENT.queue_name)
UNDEFINED_ACTOR_LOG = "Received message for undefined actor 'handle_event_v2'"


def test_a_dead_lettered_message_is_requeued_from_the_queues_page(
    seeded: Seeded, page: Page
) -> None:
    dev = seeded.dev
    # Given a message the workers cannot run, dead-lettered by them
    broker = RedisBroker(url=dev.redis_url)  # type: ignore[no-untyped-call]
    message = broker.enqueue(UNKNOWN_ACTOR.message(seeded.chat_event))
    wait_for(
        "the message dead-lettered",
        lambda: dev.output.read_text().count(UNDEFINED_ACTOR_LOG) == 1,
    )
    # When the operator opens the Queues page, then the queue of events
    page.goto(seeded.url("/console/queues"))
    screenshot(page, "queues-dead")
    page.locator("a[href*='/console/queues/events']").first.click()
    page.locator("a.state-tab[data-state='dead']").click()
    # Then the dead message is listed with its actor, arguments and error
    row = page.locator("tr.row", has_text=UNKNOWN_ACTOR.actor_name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(seeded.chat_event)
    expect(row).to_contain_text("ActorNotFound")
    screenshot(page, "queue-dead")
    # When the operator requeues it
    row.get_by_role("button", name="Requeue").click()
    # Then the console says so, and a worker receives the message again
    expect(page.locator("#notice")).to_be_visible()
    wait_for(
        "the requeued message received again",
        lambda: dev.output.read_text().count(UNDEFINED_ACTOR_LOG) == 2,
    )
    broker.close()
    assert message.queue_name == HANDLE_EVENT.queue_name
