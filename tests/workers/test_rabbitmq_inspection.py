"""The queue view on RabbitMQ: depths, a page of dead letters, and their repair."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from flyte.config import Settings
from flyte.devserver.embedded import free_port
from flyte.errors import Unavailable
from flyte.queue_inspection import MessageState
from tests.rabbitmq_lab import Lab
from tests.rabbitmq_lab import open_lab
from workers.broker import build_broker
from workers.inspection_rabbitmq import FLYTE_QUEUES
from workers.inspection_rabbitmq import build_rabbitmq_inspector


@pytest.fixture
def lab(rabbitmq_url: str) -> Iterator[Lab]:
    with open_lab(rabbitmq_url) as lab:
        yield lab


def test_flyte_s_queues_are_listed_before_anything_was_sent(rabbitmq_url: str) -> None:
    broker = build_broker(Settings(broker_url=rabbitmq_url))
    inspector = build_rabbitmq_inspector(broker)
    assert inspector is not None
    try:
        depths = {d.name: d for d in inspector.depths()}
    finally:
        broker.close()
    assert FLYTE_QUEUES <= set(depths)
    assert all(d.in_flight is None for d in depths.values())


def test_a_dead_letter_is_counted_listed_and_requeued(lab: Lab) -> None:
    # Given a dead-lettered message
    message_id = lab.dead_letter("Ada")
    assert lab.depth() == (0, 0, 1)
    # When the dead letters are listed, then it shows why it died, and stays
    page = lab.inspector.messages(lab.queue, MessageState.DEAD)
    assert page.total == 1
    [shown] = page.messages
    assert (shown.message_id, shown.actor, list(shown.args)) == (
        message_id,
        "greet",
        ["Ada"],
    )
    assert (shown.retries, shown.last_error) == (3, "ValueError: boom")
    assert lab.depth() == (0, 0, 1)
    # When it is requeued, then it waits in its queue again, without its past
    assert lab.inspector.requeue_dead(lab.queue, message_id)
    assert lab.depth() == (1, 0, 0)
    [ready] = lab.inspector.messages(lab.queue, MessageState.READY).messages
    assert (ready.message_id, ready.retries, ready.last_error) == (message_id, 0, None)
    assert not lab.inspector.requeue_dead(lab.queue, message_id)


def test_one_dead_letter_is_deleted_and_the_rest_requeued(lab: Lab) -> None:
    ids = [lab.dead_letter(name) for name in ("a", "b", "c")]
    assert lab.inspector.delete_dead(lab.queue, ids[1])
    assert lab.depth() == (0, 0, 2)
    assert lab.inspector.requeue_all_dead(lab.queue) == 2
    assert lab.depth() == (2, 0, 0)


def test_paging_the_dead_letters_skips_and_limits(lab: Lab) -> None:
    ids = [lab.dead_letter(str(n)) for n in range(5)]
    page = lab.inspector.messages(lab.queue, MessageState.DEAD, offset=1, limit=2)
    assert [m.message_id for m in page.messages] == ids[1:3]
    assert (page.total, page.offset, page.limit) == (5, 1, 2)


def test_an_unreachable_rabbitmq_is_unavailable() -> None:
    url = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    broker = build_broker(Settings(broker_url=url))
    inspector = build_rabbitmq_inspector(broker)
    assert inspector is not None
    with pytest.raises(Unavailable, match="RabbitMQ is unavailable"):
        inspector.depths()
    broker.close()
