"""Time bounds asserted on the product's code, not on the test process's pauses."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def finishes_within(seconds: float) -> Iterator[None]:
    """Assert that the block takes under ``seconds``, with the garbage collector off.

    Late in a suite run a test process holds hundreds of thousands of objects,
    and a full collection of them pauses it for up to half a second (0.7 s seen
    in CI): time charged to the test, not to the code it measures.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    started = time.monotonic()
    try:
        yield
    finally:
        took = time.monotonic() - started
        if was_enabled:
            gc.enable()
    assert took < seconds, f"took {took:.2f} s, limit {seconds:g} s"
