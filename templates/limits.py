"""Per-render limits (deadline, size caps, allocation budget) shared by the guards.

The engine installs a :class:`RenderState` in a context variable for the duration of a
render, so the guards work in any thread without signals: they are called from the
sandbox hooks (calls, operators, loop iterations, printed values) and raise
:class:`~templates.errors.LimitExceeded` once the deadline or a budget is passed.

The deadline counts the CPU time of the rendering thread, not wall-clock time, so a
process that is stopped (SIGSTOP), swapped out or starved of CPU does not run out of
time while it is not running.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from time import monotonic
from time import thread_time
from typing import Any

from templates.errors import DeadlineExceeded
from templates.errors import LimitExceeded

#: Default cap on the rendered output of one template, in bytes.
DEFAULT_MAX_OUTPUT_BYTES = 1_000_000
#: Default CPU-time budget of one render (of its thread), in seconds.
DEFAULT_MAX_RENDER_SECONDS = 1.0
#: Intermediate work a render may do, as a multiple of the output cap.
BUDGET_FACTOR = 16
#: Integers longer than this many bits are refused (about 2,466 decimal digits).
MAX_INT_BITS = 8192
#: Longest ``range()`` a template may build.
MAX_RANGE = 100_000


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits one engine applies to every render."""

    max_output: int = DEFAULT_MAX_OUTPUT_BYTES
    max_seconds: float = DEFAULT_MAX_RENDER_SECONDS
    budget: int = DEFAULT_MAX_OUTPUT_BYTES * BUDGET_FACTOR


#: Limits used when a guard runs outside a render (e.g. constant folding at compile).
DEFAULT_LIMITS = Limits()


class RenderState:
    """Mutable bookkeeping for the render currently running in this context."""

    __slots__ = ("deadline", "cpu_deadline", "remaining", "limits", "functions", "rng")

    def __init__(
        self,
        limits: Limits,
        functions: Mapping[str, Callable[..., Any]],
        rng: random.Random,
    ) -> None:
        # The thread's CPU time never runs ahead of wall-clock time, so the cheap
        # monotonic clock is checked first and the CPU clock (a system call) only
        # once the wall-clock deadline has passed.
        self.deadline = monotonic() + limits.max_seconds
        self.cpu_deadline = thread_time() + limits.max_seconds
        self.remaining = limits.budget
        self.limits = limits
        self.functions = functions
        self.rng = rng


_STATE: ContextVar[RenderState | None] = ContextVar("template_render", default=None)

get_state = _STATE.get
set_state = _STATE.set
reset_state = _STATE.reset


def current_limits() -> Limits:
    """Limits of the running render, or the defaults outside a render."""
    state = _STATE.get()
    return DEFAULT_LIMITS if state is None else state.limits


def current_rng() -> random.Random:
    """Random source of the running render (module default outside a render)."""
    state = _STATE.get()
    return _DEFAULT_RNG if state is None else state.rng


_DEFAULT_RNG = random.Random()


def is_past_deadline(state: RenderState) -> bool:
    """True once the render's thread has used up its CPU time."""
    if monotonic() <= state.deadline:
        return False
    remaining = state.cpu_deadline - thread_time()
    if remaining <= 0:
        return True
    # The process was paused or starved: the CPU budget cannot run out before
    # ``remaining`` more seconds of wall-clock time pass.
    state.deadline = monotonic() + remaining
    return False


def deadline_exceeded(state: RenderState) -> DeadlineExceeded:
    """The error for a render that ran out of time."""
    return DeadlineExceeded(
        f"render took longer than {state.limits.max_seconds:g} seconds of CPU time"
    )


def check_deadline() -> None:
    """Raise once the running render is past its deadline."""
    state = _STATE.get()
    if state is not None and is_past_deadline(state):
        raise deadline_exceeded(state)


def charge(amount: int) -> None:
    """Spend ``amount`` characters or items of the budget; also checks the deadline."""
    state = _STATE.get()
    if state is None:
        return
    state.remaining -= amount
    if state.remaining < 0:
        raise LimitExceeded(
            f"render produced more than {state.limits.budget} characters or items"
            " of intermediate data"
        )
    if is_past_deadline(state):
        raise deadline_exceeded(state)


def check_size(size: int, what: str) -> None:
    """Refuse to build a single string or list longer than the output cap."""
    limit = current_limits().max_output
    if size > limit:
        raise LimitExceeded(f"{what} would be {size} long, the limit is {limit}")


def check_int(value: int, what: str = "integer result") -> int:
    """Refuse integers longer than :data:`MAX_INT_BITS` bits."""
    if value.bit_length() > MAX_INT_BITS:
        raise LimitExceeded(f"{what} would exceed {MAX_INT_BITS} bits")
    return value
