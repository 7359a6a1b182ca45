"""The worker's retry decision, and its quiet wait for a result that raced ahead."""

from __future__ import annotations

import logging

import pytest

from flyte.engine import FlowEngine
from flyte.errors import EventNotFound
from flyte.errors import FlyteError
from flyte.errors import InvalidEvent
from flyte.errors import ResultNotReady
from flyte.errors import Unavailable
from flyte.pack import Pack
from flyte.store import Stores
from flyte.store.events import EventStatus
from tests.conftest import FakeClock
from tests.flyte.test_engine import add_flow
from tests.flyte.test_engine import post
from tests.flyte.test_engine import step
from workers.events import MAX_RETRIES
from workers.events import RESULT_WAITS
from workers.events import process_when_ready
from workers.events import should_retry

CASES = [
    # (retries so far, exception, retried?)
    (0, Unavailable("MongoDB does not answer"), True),
    (0, ResultNotReady("the action is not finished yet"), True),
    (MAX_RETRIES - 1, Unavailable("MongoDB does not answer"), True),
    (MAX_RETRIES, Unavailable("MongoDB does not answer"), False),
    (MAX_RETRIES + 1, ResultNotReady("the action is not finished yet"), False),
    (0, RuntimeError("a bug, or a trouble nobody foresaw"), True),
    (MAX_RETRIES - 1, KeyError("field"), True),
    (MAX_RETRIES, RuntimeError("a bug, or a trouble nobody foresaw"), False),
    (0, FlyteError("a permanent domain error"), False),
    (0, EventNotFound("e1"), False),
    (0, InvalidEvent([]), False),
]


@pytest.mark.parametrize(
    ("retries", "ex", "retried"),
    CASES,
    ids=[f"{type(ex).__name__}-after-{retries}" for retries, ex, _ in CASES],
)
def test_should_retry(retries: int, ex: Exception, retried: bool) -> None:
    assert should_retry(retries, ex) is retried


def early_result(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> tuple[str, str]:
    """An action, and its result event stored before the action is finished."""
    add_flow(stores, step("a"))
    [started] = engine.process(post(stores, clock).id)
    action_id = started.steps[0].action_id
    assert action_id is not None
    return post(stores, clock, name="Output", action_id=action_id).id, action_id


def finish_action(
    stores: Stores, clock: FakeClock, action_id: str, event_id: str
) -> None:
    """Take the action and finish it with the already stored result event."""
    action = stores.actions.get(action_id)
    pack = Pack(id="Shell", name=action.pack_name, last_seen=clock(), labels={})
    stores.actions.take_next(pack, action.name, clock(), clock())
    taken = stores.actions.get(action_id)
    result = stores.events.get(event_id).event
    stores.actions.finish(taken, taken.finished_with(result, clock()))


def test_a_result_that_overtakes_its_action_waits_quietly(
    stores: Stores,
    engine: FlowEngine,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a result event processed before the API finished its action
    event_id, action_id = early_result(stores, engine, clock)
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        if len(waited) == 2:
            finish_action(stores, clock, action_id, event_id)

    # When the worker processes it
    with caplog.at_level(logging.DEBUG, logger="workers.events"):
        process_when_ready(engine, event_id, sleep=sleep)
    # Then it waited twice, without a warning or error, and was processed
    assert waited == list(RESULT_WAITS[:2])
    assert stores.events.get(event_id).status is EventStatus.PROCESSED
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    debug = [r.getMessage() for r in caplog.records if r.name == "workers.events"]
    assert len(debug) == 2
    assert f"action={action_id}" in debug[0]


def test_a_result_whose_action_never_finishes_gives_one_warning(
    stores: Stores,
    engine: FlowEngine,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a result event whose action is never finished
    event_id, action_id = early_result(stores, engine, clock)
    # When the worker's wait runs out
    with caplog.at_level(logging.DEBUG):
        process_when_ready(engine, event_id, waits=(0.001, 0.001))
    # Then one WARNING names the event and the action, and the event stays pending
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert f"event={event_id}" in warnings[0].getMessage()
    assert f"action={action_id}" in warnings[0].getMessage()
    assert stores.events.get(event_id).status is EventStatus.PENDING
