"""``matchesCron``: is an RFC 3339 timestamp due for a cron expression?

Follows upstream (gronx): 5 fields (minute hour day-of-month month day-of-week) or 6,
where the 6th is the YEAR; the macros below; SUN-SAT and JAN-DEC names in any case;
minute granularity in the timestamp's own zone; day-of-month AND day-of-week must both
match. Field matching is done by ``croniter``.
"""

from __future__ import annotations

import re
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from functools import lru_cache

from croniter import CroniterError
from croniter import croniter

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?"
    r"(?:(Z)|([+-])(\d{2}):(\d{2}))\Z"
)
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
    "@always": "* * * * *",
    "@5minutes": "*/5 * * * *",
    "@10minutes": "*/10 * * * *",
    "@15minutes": "*/15 * * * *",
    "@30minutes": "0,30 * * * *",
}
_NAMES = dict(
    zip(
        "SUN MON TUE WED THU FRI SAT".split(),
        map(str, range(7)),
        strict=True,
    )
)
_NAMES.update(
    zip(
        "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split(),
        map(str, range(1, 13)),
        strict=True,
    )
)
_NAME = re.compile("|".join(_NAMES))
_WHITESPACE = re.compile(r"\s+")
# gronx writes "last Friday" as 5L; croniter as L5.
_LAST_WEEKDAY = re.compile(r"(\d)L")
_YEAR_ITEM = re.compile(r"(\*|\d+)(?:-(\d+))?(?:/(\d+))?\Z")


class CronError(ValueError):
    """The cron expression is invalid."""


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp (fractional seconds allowed), as Go's time.Parse."""
    found = _RFC3339.match(text)
    if found is None:
        raise ValueError(f"invalid date: '{text}'")
    year, month, day, hour, minute, second = (int(g) for g in found.groups()[:6])
    zulu, sign, zone_hours, zone_minutes = found.groups()[6:]
    try:
        offset = timedelta(0)
        if not zulu:
            offset = timedelta(hours=int(zone_hours), minutes=int(zone_minutes))
            offset = -offset if sign == "-" else offset
        zone = timezone(offset)
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except ValueError as ex:
        raise ValueError(f"invalid date: '{text}'") from ex


def matches_cron(timestamp: str, expression: str) -> bool:
    """True when ``expression`` is due at ``timestamp`` (minute granularity)."""
    when = parse_rfc3339(timestamp).replace(second=0)
    fields, years = parse_cron(expression)
    if years is not None and not _year_matches(years, when.year):
        return False
    return bool(croniter.match(fields, when, day_or=False))


@lru_cache(maxsize=256)
def parse_cron(expression: str) -> tuple[str, str | None]:
    """Normalise as gronx does; return the 5 croniter fields and the year field."""
    text = expression.strip(" \t")
    text = _MACROS.get(text.lower(), text)
    text = _NAME.sub(lambda m: _NAMES[m.group()], _WHITESPACE.sub(" ", text).upper())
    fields = text.split(" ")
    if len(fields) not in (5, 6):
        raise CronError(
            f"invalid cron expression '{expression}': expected 5 or 6 fields"
        )
    fields[4] = _LAST_WEEKDAY.sub(r"L\1", fields[4])
    base = " ".join(fields[:5])
    try:
        croniter.expand(base)
    except (CroniterError, ValueError, IndexError) as ex:
        raise CronError(f"invalid cron expression '{expression}': {ex}") from ex
    years = fields[5] if len(fields) == 6 else None
    if years is not None:
        _check_years(expression, years)
    return base, years


def _check_years(expression: str, years: str) -> None:
    if years == "?":
        return
    for item in years.split(","):
        found = _YEAR_ITEM.match(item)
        if found is None or found.group(3) == "0":
            raise CronError(
                f"invalid cron expression '{expression}': bad year {item!r}"
            )


def _year_matches(years: str, year: int) -> bool:
    if years in ("*", "?"):
        return True
    return any(_year_item_matches(item, year) for item in years.split(","))


def _year_item_matches(item: str, year: int) -> bool:
    found = _YEAR_ITEM.match(item)
    assert found is not None  # validated by parse_cron
    start_text, end_text, step_text = found.groups()
    step = int(step_text or 1)
    if start_text == "*":
        return year % step == 0 if step_text else True
    start = int(start_text)
    end = int(end_text) if end_text else (year if step_text else start)
    return start <= year <= end and (year - start) % step == 0
