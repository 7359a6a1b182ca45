"""Masking of secret values in what Flyte stores and logs besides the datastore.

Kept apart from flyte/secrets.py (no ``cryptography`` import): the outcome and
audit code and the logging set-up use it. Every secret the process reveals
(``DatastoreStore.reveal_secret``) is remembered by :data:`MASK`; audit copies of
actions, event outcomes and log lines replace it with :data:`MASKED`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

#: What a secret value is shown as, wherever it would otherwise appear.
MASKED = "********"
#: Secrets shorter than this are not masked inside other text: a 1-3 character
#: value would mask every occurrence of those letters.
MIN_MASKED_LENGTH = 4
#: Most revealed values remembered for masking (least recently revealed go first).
MAX_REMEMBERED = 10_000


class SecretMask:
    """The secret values revealed in this process, to mask wherever they appear."""

    def __init__(self, max_remembered: int = MAX_REMEMBERED) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._max = max_remembered
        self._lock = threading.Lock()

    def remember(self, value: str) -> None:
        """Mask this value from now on (and note it in the current reveal tracker)."""
        tracker = _REVEALS.get()
        if tracker is not None:
            tracker.append(value)
        if len(value) < MIN_MASKED_LENGTH:
            return
        with self._lock:
            self._values[value] = None
            self._values.move_to_end(value)
            while len(self._values) > self._max:
                self._values.popitem(last=False)

    def text(self, text: str) -> str:
        """The text with every remembered value replaced by MASKED."""
        if not self._values or not text:
            return text
        with self._lock:
            # Longest first: a secret that contains another is masked whole.
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASKED)
        return text

    def data(self, data: Any) -> Any:
        """A copy of JSON-like data with every remembered value masked in strings."""
        if not self._values:
            return data
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {key: self.data(value) for key, value in data.items()}
        if isinstance(data, list):
            return [self.data(value) for value in data]
        return data


#: The process's mask: filled by reveals, read by the audit copy and the logs.
MASK = SecretMask()


#: The values revealed inside the current ``tracking_reveals`` block, if any.
_REVEALS: ContextVar[list[str] | None] = ContextVar("flyte_reveals", default=None)


@contextmanager
def tracking_reveals() -> Iterator[list[str]]:
    """Collect the secret values revealed in this block (this thread or task).

    The engine renders a step inside one: an action whose rendering revealed a
    secret is stored encrypted (flyte/store/actions.py).
    """
    revealed: list[str] = []
    token = _REVEALS.set(revealed)
    try:
        yield revealed
    finally:
        _REVEALS.reset(token)


class MaskingFilter(logging.Filter):
    """A log handler filter that masks remembered secrets in each message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the message, traceback and stack of the record; never drops one."""
        message = record.getMessage()
        masked = MASK.text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatters print a record's exc_text when it is set, so the
            # traceback is formatted here once, and masked like the message.
            record.exc_text = _TRACEBACKS.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = MASK.text(record.exc_text)
        if record.stack_info:
            record.stack_info = MASK.text(record.stack_info)
        return True


#: Formats tracebacks as logging's own formatters do.
_TRACEBACKS = logging.Formatter()
