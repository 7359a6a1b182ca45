"""The flow stamp: a token in Redis that changes whenever the flows matching events do.

Workers cache which flows an event matches (``flyte/store/trigger_cache.py``)
under the stamp they read before reading MongoDB; every flow write renews the
stamp, so the next event a worker handles sees the stamp changed and reloads.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import redis

from flyte.errors import Unavailable
from flyte.fast_redis import fail_fast_client

#: The stamp's key is this prefix and the MongoDB database's name: two
#: installations sharing one Redis (or the tests' databases) never share a stamp.
KEY_PREFIX = "flyte:flow-stamp:"
#: A worker reads the stamp on every event: an outage must cost it little.
CALL_TIMEOUT_SECONDS = 1.0


class FlowStamp(Protocol):
    """A token shared by every process, renewed whenever a flow changes."""

    def current(self) -> str:
        """The current token (made when there is none); Unavailable if unreadable."""
        ...

    def renew(self) -> None:
        """Replace the token with a fresh one; Unavailable if that failed."""
        ...


class RedisFlowStamp:
    """The flow stamp of one MongoDB database, kept under a key in Redis."""

    def __init__(self, client: redis.Redis, database: str) -> None:
        self._client = client
        self.key = f"{KEY_PREFIX}{database}"

    def current(self) -> str:
        """The token in Redis; a new one when the key is missing (a fresh Redis)."""
        with _unavailable_on_redis_error():
            value = self._client.get(self.key)
            if value is None:
                token = _new_token()
                # NX: of two processes making the first token, both keep the winner's.
                self._client.set(self.key, token, nx=True)
                # None: deleted again meanwhile. ``token`` is then safe to use: no
                # one else has it, so nothing cached under it is ever current again.
                value = self._client.get(self.key) or token
        return value.decode() if isinstance(value, bytes) else str(value)

    def renew(self) -> None:
        """Store a fresh token, so every cache read under the old one is dropped."""
        with _unavailable_on_redis_error():
            self._client.set(self.key, _new_token())


def stamp_client(url: str) -> redis.Redis:
    """A Redis client for the stamp: short timeouts and no retries."""
    return fail_fast_client(url, CALL_TIMEOUT_SECONDS)


def _new_token() -> str:
    return secrets.token_hex(16)


@contextmanager
def _unavailable_on_redis_error() -> Iterator[None]:
    """Turn any Redis error into ``Unavailable`` (the API answers 503)."""
    try:
        yield
    except redis.RedisError as ex:
        raise Unavailable(f"Redis is unavailable ({type(ex).__name__})") from ex
