"""Injectable time and id sources, and the one time format of the API.

``utcnow`` and ``format_time`` are defined in the wire contract, which the clients
share, and re-exported here for the server.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC
from datetime import datetime
from datetime import timedelta

from flyte.contract.times import format_time
from flyte.contract.times import utcnow

__all__ = [
    "derived_id",
    "format_time",
    "from_millis",
    "new_id",
    "to_millis",
    "to_stored_precision",
    "utcnow",
]


def new_id() -> str:
    """Return a new random string id (uuid4 hex); string ids keep nx-27017 exact."""
    return uuid.uuid4().hex


def derived_id(*parts: str) -> str:
    """A stable id from its parts: a redelivered message maps to the same ids."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:32]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def to_millis(moment: datetime) -> int:
    """Convert an aware datetime to epoch milliseconds, the stored time format."""
    # Integer arithmetic: a float timestamp times 1000 can land a millisecond low.
    return (moment - _EPOCH) // _MILLISECOND


def from_millis(millis: int) -> datetime:
    """Convert stored epoch milliseconds back to an aware UTC datetime."""
    return _EPOCH + millis * _MILLISECOND


def to_stored_precision(moment: datetime) -> datetime:
    """``moment`` cut to whole milliseconds: it reads the same once stored."""
    return from_millis(to_millis(moment))
