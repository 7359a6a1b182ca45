"""Injectable time and id sources, and the one time format of the API."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC
from datetime import datetime


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def new_id() -> str:
    """Return a new random string id (uuid4 hex); string ids keep nx-27017 exact."""
    return uuid.uuid4().hex


def derived_id(*parts: str) -> str:
    """A stable id from its parts: a redelivered message maps to the same ids."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return digest[:32]


def to_millis(moment: datetime) -> int:
    """Convert an aware datetime to epoch milliseconds, the stored time format."""
    return int(moment.timestamp() * 1000)


def from_millis(millis: int) -> datetime:
    """Convert stored epoch milliseconds back to an aware UTC datetime."""
    return datetime.fromtimestamp(millis / 1000, UTC)


def format_time(moment: datetime) -> str:
    """Format as RFC 3339 in UTC with a ``Z``, trailing zeros trimmed as Go does."""
    utc = moment.astimezone(UTC)
    # strftime("%Y") does not pad years before 1000 (Go's zero time is year 1).
    text = f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S")
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"
