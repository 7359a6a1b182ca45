"""The console's Queues page and /metrics on RabbitMQ: what AMQP lets them show."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from falcon import testing

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.store import Stores
from tests.conftest import FakeClock
from tests.rabbitmq_lab import Lab
from tests.rabbitmq_lab import open_lab
from workers.queue import DramatiqQueue

CSRF = "test-csrf-token"


@pytest.fixture
def lab(rabbitmq_url: str) -> Iterator[Lab]:
    with open_lab(rabbitmq_url) as lab:
        yield lab


@pytest.fixture
def console(
    settings: Settings, stores: Stores, clock: FakeClock, lab: Lab
) -> testing.TestClient:
    """The app on the lab's RabbitMQ broker, with a CSRF cookie as a browser has."""
    deps = Dependencies(
        stores=stores,
        queue=DramatiqQueue(lab.broker),
        health_checks={},
        clock=clock,
        queues=lab.inspector,
    )
    return testing.TestClient(
        create_app(settings, deps),
        headers={"Host": "example.com", "Cookie": f"flyte_csrf={CSRF}"},
    )


def test_the_queues_page_shows_rabbitmq_s_counts_and_no_in_flight_count(
    console: testing.TestClient, lab: Lab
) -> None:
    lab.dead_letter("a")
    page = console.simulate_get("/console/queues")
    assert page.status_code == 200
    row = page.text.split(f'data-queue="{lab.queue}"')[1].split("</tr>")[0]
    assert re.search(r'class="num ready">\s*0<', row)
    assert re.search(r'<span class="badge badge-dead">1</span>', row)
    # AMQP does not tell how many messages workers hold
    assert re.search(r'class="num in-flight">\s*\?<', row)


def test_a_dead_letter_is_listed_and_requeued_from_the_page(
    console: testing.TestClient, lab: Lab
) -> None:
    # Given a dead letter, listed on the dead tab with why it died
    message_id = lab.dead_letter("<b>Ada</b>")
    page = console.simulate_get(
        f"/console/queues/{lab.queue}", params={"state": "dead"}
    )
    assert page.status_code == 200
    assert f'data-message-id="{message_id}"' in page.text
    assert "ValueError: boom" in page.text
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page.text
    # When it is requeued from the page
    done = console.simulate_post(
        f"/console/queues/{lab.queue}/dead/{message_id}/requeue",
        body=f"csrf_token={CSRF}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    # Then it waits in its queue again
    assert done.status_code in (303, 302), done.text
    assert lab.depth() == (1, 0, 0)


def test_metrics_export_rabbitmq_s_queue_depths(
    console: testing.TestClient, lab: Lab
) -> None:
    lab.dead_letter("a")
    text = console.simulate_get("/metrics").text
    line = f'flyte_queue_messages{{queue="{lab.queue}",state="dead"}} 1.0'
    assert line in text.splitlines(), text[-2000:]
    assert "flyte_queue_inspection_up 1.0" in text
