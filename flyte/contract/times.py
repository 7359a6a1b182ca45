"""The current time, and the one time format of the API (``createdAt``, ``time``)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def format_time(moment: datetime) -> str:
    """Format as RFC 3339 in UTC with a ``Z``, trailing zeros trimmed as Go does."""
    utc = moment.astimezone(UTC)
    # strftime("%Y") does not pad years before 1000 (Go's zero time is year 1).
    text = f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S")
    fraction = f"{utc.microsecond:06d}".rstrip("0")
    return f"{text}.{fraction}Z" if fraction else f"{text}Z"
