"""The worker's retry decision: passing troubles retry, permanent errors never do."""

from __future__ import annotations

import pytest

from flyte.errors import EventNotFound
from flyte.errors import FlyteError
from flyte.errors import InvalidEvent
from flyte.errors import ResultNotReady
from flyte.errors import Unavailable
from workers.events import MAX_RETRIES
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
