"""RedisQueueInspector against a real Redis, a real RedisBroker and a real worker."""

from __future__ import annotations

import dramatiq
import pytest
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

from flyte.errors import NotFound
from flyte.errors import Unavailable
from flyte.queue_inspection import MessageState
from flyte.queue_inspection import QueueDepth
from tests.deadletters import JOBS
from tests.deadletters import DeadLetterLab
from tests.deadletters import wait_until
from workers.broker import build_redis_broker
from workers.inspection import RedisQueueInspector
from workers.inspection import build_inspector


def depth_of(inspector: RedisQueueInspector, name: str) -> QueueDepth:
    """The depth of queue ``name``."""
    return next(d for d in inspector.depths() if d.name == name)


def test_a_dead_lettered_message_is_counted_and_listed_with_its_error(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    with dead_letters.running():
        dead_letters.kill("a")

    assert depth_of(inspector, JOBS) == QueueDepth(JOBS, 0, 0, 1, in_flight=0)
    page = inspector.messages(JOBS, MessageState.DEAD)
    assert page.total == 1
    [message] = page.messages
    assert (message.actor, message.args, message.retries) == ("work", ["a"], 1)
    assert (
        message.last_error is not None and "RuntimeError: boom a" in message.last_error
    )
    assert message.state is MessageState.DEAD
    assert message.enqueued_at is not None and message.state_since is not None


def test_a_message_for_an_unknown_actor_is_dead_lettered_with_the_reason(
    dead_letters: DeadLetterLab,
) -> None:
    # Given a message for an actor no worker has (an older or newer release's)
    ghost: dramatiq.Message[None] = dramatiq.Message(
        queue_name=JOBS, actor_name="ghost", args=("a",), kwargs={}, options={}
    )
    with dead_letters.running():
        dead_letters.broker.enqueue(ghost)
        wait_until(lambda: dead_letters.dead_count() == 1)

    [message] = (
        RedisQueueInspector(dead_letters.broker)
        .messages(JOBS, MessageState.DEAD)
        .messages
    )
    assert message.actor == "ghost"
    assert message.last_error is not None and "ActorNotFound" in message.last_error


def test_a_requeued_dead_message_runs_again_with_its_retries_reset(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    with dead_letters.running():
        # Given a message that failed for good
        dead_letters.kill("a")
        [message] = inspector.messages(JOBS, MessageState.DEAD).messages
        # When it is requeued once the cause is fixed
        dead_letters.failing.clear()
        assert inspector.requeue_dead(JOBS, message.message_id)
        # Then the worker runs it, and it is no longer dead-lettered
        wait_until(lambda: dead_letters.done == ["a"])
    assert dead_letters.dead_count() == 0
    assert not inspector.requeue_dead(JOBS, message.message_id)


def test_a_requeued_message_that_fails_again_is_dead_lettered_again(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    with dead_letters.running():
        dead_letters.kill("a")
        [first] = inspector.messages(JOBS, MessageState.DEAD).messages
        assert inspector.requeue_dead(JOBS, first.message_id)
        wait_until(lambda: inspector.messages(JOBS, MessageState.DEAD).total == 1)
    [again] = inspector.messages(JOBS, MessageState.DEAD).messages
    # A new copy, failed once more from a fresh start.
    assert again.message_id != first.message_id
    assert again.retries == 1


def test_a_deleted_dead_message_is_gone_for_good(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    with dead_letters.running():
        dead_letters.kill("a", "b")
    page = inspector.messages(JOBS, MessageState.DEAD)
    doomed = next(m for m in page.messages if m.args == ["a"])

    assert inspector.delete_dead(JOBS, doomed.message_id)
    assert not inspector.delete_dead(JOBS, doomed.message_id)
    [left] = inspector.messages(JOBS, MessageState.DEAD).messages
    assert left.args == ["b"]
    assert not inspector.requeue_dead(JOBS, doomed.message_id)


def test_requeue_all_sends_back_every_dead_message(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    with dead_letters.running():
        dead_letters.kill("a", "b", "c")
        dead_letters.failing.clear()
        assert inspector.requeue_all_dead(JOBS) == 3
        wait_until(lambda: sorted(dead_letters.done) == ["a", "b", "c"])
    assert depth_of(inspector, JOBS).dead == 0
    assert inspector.requeue_all_dead(JOBS) == 0


def test_requeue_all_ends_when_the_requeued_messages_die_again(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    with dead_letters.running():
        dead_letters.kill("a", "b")
        assert inspector.requeue_all_dead(JOBS) == 2
        wait_until(lambda: dead_letters.dead_count() == 2)


def test_ready_messages_are_paged_oldest_first(dead_letters: DeadLetterLab) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    for name in "abcde":
        dead_letters.work.send(name)

    page = inspector.messages(JOBS, MessageState.READY, offset=1, limit=2)

    assert page.total == 5
    assert [m.args for m in page.messages] == [["b"], ["c"]]
    assert depth_of(inspector, JOBS).ready == 5


def test_a_delayed_message_is_counted_and_listed_with_when_it_is_due(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    dead_letters.work.send_with_options(args=("later",), delay=60_000)

    assert depth_of(inspector, JOBS).delayed == 1
    [message] = inspector.messages(JOBS, MessageState.DELAYED).messages
    assert message.args == ["later"]
    assert message.enqueued_at is not None and message.state_since is not None
    assert (message.state_since - message.enqueued_at).total_seconds() >= 59


def test_a_worker_shows_the_message_it_holds(dead_letters: DeadLetterLab) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    dead_letters.hold.set()
    with dead_letters.running():
        dead_letters.work.send("slow")
        wait_until(lambda: any(w.in_flight for w in inspector.workers()))
        [worker] = [w for w in inspector.workers() if w.in_flight]
        assert worker.alive
        assert worker.in_flight_count == 1
        assert [m.args for m in worker.in_flight] == [["slow"]]
        assert worker.in_flight[0].state is MessageState.IN_FLIGHT
        assert depth_of(inspector, JOBS).in_flight == 1


def test_queues_only_found_in_redis_are_listed_too(
    dead_letters: DeadLetterLab,
) -> None:
    # Given another process of the same namespace that sent to a queue this
    # broker never declared
    other = RedisBroker(  # type: ignore[no-untyped-call]
        client=dead_letters.client, namespace=dead_letters.namespace
    )

    @dramatiq.actor(queue_name="elsewhere", broker=other)
    def elsewhere() -> None:
        """Never run: the message only has to be there."""

    elsewhere.send()

    names = [d.name for d in RedisQueueInspector(dead_letters.broker).depths()]

    assert names == ["elsewhere", JOBS]


def test_a_name_that_cannot_be_a_queue_is_not_found(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = RedisQueueInspector(dead_letters.broker)
    for name in ("__heartbeats__", "a b", ""):
        with pytest.raises(NotFound):
            inspector.messages(name, MessageState.READY)


def test_redis_down_is_unavailable() -> None:
    broker = build_redis_broker("redis://127.0.0.1:1/0")
    with pytest.raises(Unavailable):
        RedisQueueInspector(broker).depths()
    broker.close()


def test_the_redis_broker_gets_an_inspector_that_knows_flyte_s_queues(
    dead_letters: DeadLetterLab,
) -> None:
    inspector = build_inspector(dead_letters.broker)
    assert isinstance(inspector, RedisQueueInspector)
    names = [d.name for d in inspector.depths()]
    assert {"events", "housekeeping", JOBS} <= set(names)


def test_a_broker_without_an_inspector_gets_none() -> None:
    assert build_inspector(StubBroker()) is None
