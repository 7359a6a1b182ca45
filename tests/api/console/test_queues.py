"""The Queues pages over HTTP: real Redis, a real RedisBroker and a real worker."""

from __future__ import annotations

import re

import pytest
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.store import Stores
from tests.conftest import FakeClock
from tests.deadletters import JOBS
from tests.deadletters import DeadLetterLab
from tests.deadletters import wait_until
from workers.inspection import RedisQueueInspector
from workers.queue import DramatiqQueue

CSRF = "test-csrf-token"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def console(
    settings: Settings,
    stores: Stores,
    queue: DramatiqQueue,
    clock: FakeClock,
    dead_letters: DeadLetterLab,
) -> testing.TestClient:
    """The app reading the lab's queues, with a CSRF cookie as a browser has."""
    deps = Dependencies(
        stores=stores,
        queue=queue,
        health_checks={},
        clock=clock,
        queues=RedisQueueInspector(dead_letters.broker),
    )
    return testing.TestClient(
        create_app(settings, deps),
        headers={"Host": "example.com", "Cookie": f"flyte_csrf={CSRF}"},
    )


def post_form(console: testing.TestClient, path: str) -> testing.Result:
    """Submit a console form the way the page does (with the CSRF field)."""
    return console.simulate_post(
        path, body=f"csrf_token={CSRF}", headers={"Content-Type": FORM}
    )


def dead_ids(console: testing.TestClient) -> list[str]:
    """The message ids the dead tab of the jobs queue lists."""
    page = console.simulate_get(f"/console/queues/{JOBS}", params={"state": "dead"})
    assert page.status_code == 200
    return re.findall(r'<tr class="row" data-message-id="([^"]+)"', page.text)


def test_the_queues_page_shows_each_queue_s_counts(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    with dead_letters.running():
        dead_letters.kill("a")
    dead_letters.work.send("b")

    page = console.simulate_get("/console/queues")

    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    row = page.text.split(f'data-queue="{JOBS}"')[1].split("</tr>")[0]
    assert re.search(r'class="num ready">\s*1<', row)
    assert re.search(r'class="num delayed">\s*0<', row)
    assert re.search(r'<span class="badge badge-dead">1</span>', row)
    assert 'id="workers"' in page.text


def test_the_dead_tab_lists_actor_arguments_retries_and_error(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    with dead_letters.running():
        dead_letters.kill("<img src=x onerror=alert(1)>")

    page = console.simulate_get(f"/console/queues/{JOBS}", params={"state": "dead"})

    assert page.status_code == 200
    assert "<code>work</code>" in page.text
    assert 'class="num retries">1<' in page.text
    assert "RuntimeError: boom" in page.text
    # Hostile arguments and error texts are shown as text, never as markup.
    assert "<img src=x" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text
    assert f'<input type="hidden" name="csrf_token" value="{CSRF}">' in page.text
    assert 'id="requeue-all"' in page.text
    dead_tab = page.text.split('data-state="dead"')[1].split("</a>")[0]
    assert '<span class="count">1</span>' in dead_tab


def test_requeue_from_the_page_sends_the_message_back_to_the_worker(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    with dead_letters.running():
        # Given a dead-lettered message listed on the dead tab
        dead_letters.kill("a")
        [message_id] = dead_ids(console)
        # When the operator requeues it once the cause is fixed
        dead_letters.failing.clear()
        path = f"/console/queues/{JOBS}/dead/{message_id}/requeue"
        done = post_form(console, path)
        # Then it runs, and the page says what happened
        wait_until(lambda: dead_letters.done == ["a"])
    assert done.status_code == 303
    back = done.headers["Location"]
    assert back.endswith(f"/console/queues/{JOBS}?state=dead&notice=requeued")
    assert dead_ids(console) == []
    shown = console.simulate_get(back.removeprefix("http://example.com"))
    assert 'id="notice"' in shown.text


def test_requeueing_a_message_already_gone_says_so(
    console: testing.TestClient,
) -> None:
    done = post_form(console, f"/console/queues/{JOBS}/dead/nope/requeue")
    assert done.status_code == 303
    assert done.headers["Location"].endswith("notice=gone")


def test_delete_from_the_page_drops_only_that_message(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    with dead_letters.running():
        dead_letters.kill("a", "b")
    doomed, kept = dead_ids(console)

    done = post_form(console, f"/console/queues/{JOBS}/dead/{doomed}/delete")

    assert done.status_code == 303
    assert done.headers["Location"].endswith("notice=deleted")
    assert dead_ids(console) == [kept]


def test_requeue_all_from_the_page(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    with dead_letters.running():
        dead_letters.kill("a", "b", "c")
        dead_letters.failing.clear()
        done = post_form(console, f"/console/queues/{JOBS}/dead/requeue-all")
        wait_until(lambda: len(dead_letters.done) == 3)
    assert done.status_code == 303
    assert done.headers["Location"].endswith("notice=requeued-all&count=3")
    assert dead_ids(console) == []


def test_a_repair_without_the_csrf_token_is_refused(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    with dead_letters.running():
        dead_letters.kill("a")
    [message_id] = dead_ids(console)

    refused = console.simulate_post(
        f"/console/queues/{JOBS}/dead/{message_id}/delete",
        body="csrf_token=forged",
        headers={"Content-Type": FORM},
    )

    assert refused.status_code == 403
    assert dead_ids(console) == [message_id]


def test_ready_messages_are_paged(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    for name in "abcde":
        dead_letters.work.send(name)

    first = console.simulate_get(f"/console/queues/{JOBS}", params={"limit": "2"})
    assert len(re.findall(r'<tr class="row"', first.text)) == 2
    next_href = re.search(r'id="next-page" href="([^"]+)"', first.text)
    assert next_href is not None
    last = console.simulate_get(next_href.group(1).replace("&amp;", "&"))
    assert last.status_code == 200
    assert "&#34;c&#34;" in last.text and "&#34;a&#34;" not in last.text
    assert 'id="first-page"' in last.text


def test_a_worker_s_in_flight_message_is_shown(
    console: testing.TestClient, dead_letters: DeadLetterLab
) -> None:
    dead_letters.hold.set()
    with dead_letters.running():
        dead_letters.work.send("slow")
        wait_until(lambda: 'ul class="in-flight"' in _queues(console))
        page = _queues(console)
    assert "<code>work</code>" in page
    assert "in flight" in page


def test_a_name_that_cannot_be_a_queue_is_the_404_page(
    console: testing.TestClient,
) -> None:
    page = console.simulate_get("/console/queues/__heartbeats__")
    assert page.status_code == 404
    assert 'id="not-found"' in page.text


def test_without_an_inspector_the_page_says_so(client: testing.TestClient) -> None:
    page = client.simulate_get("/console/queues")
    assert page.status_code == 200
    assert 'id="no-inspector"' in page.text


def _queues(console: testing.TestClient) -> str:
    return console.simulate_get("/console/queues").text
