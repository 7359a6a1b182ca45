"""Dramatiq messages as the Redis broker stores them: read, copied, and kept on failure.

``DeadLetterDetails`` runs in the workers; the rest serves the queue inspector.
"""

from __future__ import annotations

import dataclasses
import logging
import traceback
from datetime import datetime
from typing import Any

import dramatiq
import redis
from dramatiq import Message
from dramatiq import Middleware
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker
from dramatiq.errors import DecodeError

from flyte.clock import from_millis
from flyte.queue_inspection import MessageState
from flyte.queue_inspection import QueuedMessage

logger = logging.getLogger(__name__)

#: Options a dead message loses when requeued: its next run starts afresh, with
#: every retry again, instead of being dead-lettered at its first failure.
RESET_OPTIONS = ("retries", "traceback", "requeue_timestamp", "eta", "redis_message_id")
#: Replace a stored message only if it is still there (never resurrect one).
_REPLACE_STORED = """
if redis.call("hexists", KEYS[1], ARGV[1]) == 1 then
    redis.call("hset", KEYS[1], ARGV[1], ARGV[2])
end
"""


class DeadLetterDetails(Middleware):
    """Keeps a failing message's retries and last error in its dead-lettered copy.

    The Redis broker dead-letters the copy it stored at enqueue time, while
    ``Retries`` records the failure on the message in memory only; rewriting the
    stored copy just before the nack lets the Queues page show why it died.
    Failures ``Retries`` leaves unrecorded (an error in ``throws``, a message for
    an actor this worker does not have) get the traceback of their exception.
    """

    def before_nack(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        """Store the message as it is now over the copy about to be dead-lettered."""
        if not isinstance(broker, RedisBroker):
            return
        redis_id = message.options.get("redis_message_id")
        if redis_id is None:
            return
        if "traceback" not in message.options:
            # MessageProxy keeps the exception only in this private attribute.
            failure = getattr(message, "_exception", None)
            if failure is not None:
                message.options["traceback"] = "".join(
                    traceback.format_exception(failure, limit=30)
                )
        key = f"{broker.namespace}:{message.queue_name}.msgs"
        try:
            broker.client.register_script(_REPLACE_STORED)(
                keys=[key], args=[redis_id, message.encode()]
            )
        except redis.RedisError as ex:
            # Only the details are lost: the nack itself still dead-letters it.
            logger.warning(
                "Could not record the failure of message %s: %s",
                message.message_id,
                ex,
            )


def fresh_copy(message: Message[Any], queue: str) -> Message[Any]:
    """The dead message as a new send: same id, actor and arguments, no past."""
    options = {k: v for k, v in message.options.items() if k not in RESET_OPTIONS}
    return dataclasses.replace(message, queue_name=queue, options=options)


def decode_message(data: bytes) -> Message[Any] | None:
    """The stored message, or None when it cannot be decoded."""
    try:
        return Message.decode(data)
    except DecodeError:
        return None


def queued_message(
    message_id: bytes,
    data: bytes,
    queue: str,
    state: MessageState,
    state_since_ms: int | None,
) -> QueuedMessage:
    """What the console shows of one stored message; undecodable ones say so.

    A delayed message's ``state_since`` is when it is due (its ``eta``).
    """
    message = decode_message(data)
    if message is not None and state_since_ms is None:
        state_since_ms = message.options.get("eta")
    since = None if state_since_ms is None else from_millis(int(state_since_ms))
    return shown_message(
        message,
        message_id=message_id.decode(),
        size=len(data),
        queue=queue,
        state=state,
        state_since=since,
    )


def shown_message(
    message: Message[Any] | None,
    *,
    message_id: str,
    size: int,
    queue: str,
    state: MessageState,
    state_since: datetime | None,
) -> QueuedMessage:
    """What the console shows of a decoded message, or of ``size`` undecodable bytes."""
    if message is None:
        return QueuedMessage(
            message_id=message_id,
            queue=queue,
            actor="",
            args=[],
            kwargs={},
            retries=0,
            enqueued_at=None,
            last_error=f"undecodable message ({size} bytes)",
            state=state,
            state_since=state_since,
        )
    return QueuedMessage(
        message_id=message_id,
        queue=queue,
        actor=message.actor_name,
        args=list(message.args),
        kwargs=dict(message.kwargs),
        retries=int(message.options.get("retries", 0)),
        enqueued_at=from_millis(int(message.message_timestamp)),
        last_error=message.options.get("traceback"),
        state=state,
        state_since=state_since,
    )
