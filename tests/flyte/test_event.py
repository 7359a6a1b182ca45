"""Parsing event bodies: validated by flyte/schemas/event.json, times as RFC 3339."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from typing import Any

import pytest

from flyte.errors import InvalidEvent
from flyte.event import PackRef
from flyte.event import parse_event
from flyte.schema import parse_rfc3339

NOW = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
PACK = PackRef("Slack", "Slack")


def problems_of(body: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidEvent) as info:
        parse_event(body, "e1", PACK, NOW)
    return [(p.location, p.message) for p in info.value.problems]


def test_a_minimal_event_is_received_now() -> None:
    event = parse_event({"event": "E"}, "e1", PACK, NOW)
    assert (event.name, event.payload, event.created_at) == ("E", None, NOW)


def test_payload_and_created_at_are_kept_and_other_keys_ignored() -> None:
    body = {
        "event": "E",
        "payload": {"a": [1]},
        "createdAt": "2022-01-02T17:04:05.5+02:00",
        "pack": {"id": "Other"},
    }
    event = parse_event(body, "e1", PACK, NOW)
    assert event.payload == {"a": [1]}
    assert event.pack == PACK
    assert event.created_at == datetime(2022, 1, 2, 15, 4, 5, 500000, tzinfo=UTC)


def test_a_null_created_at_means_now() -> None:
    assert (
        parse_event({"event": "E", "createdAt": None}, "e", PACK, NOW).created_at == NOW
    )


@pytest.mark.parametrize(
    ("body", "problems"),
    [
        ({}, [("$.event", "must be a non-empty string")]),
        ({"event": ""}, [("$.event", "must be a non-empty string")]),
        ({"event": 7}, [("$.event", "must be a non-empty string")]),
        ([], [("$", "must be an object")]),
        (None, [("$", "must be an object")]),
        (
            {"payload": 1, "createdAt": "x"},
            [
                ("$.event", "must be a non-empty string"),
                ("$.createdAt", "must be an RFC 3339 time"),
            ],
        ),
    ],
)
def test_every_problem_is_reported_with_its_location(
    body: Any, problems: list[tuple[str, str]]
) -> None:
    assert problems_of(body) == problems


@pytest.mark.parametrize(
    "created_at",
    [
        "yesterday",
        "2022-01-02T15:04:05",  # no zone
        "2022-01-02 15:04:05Z",  # a space for the T
        "2022-01-02T15:04Z",  # no seconds
        "2022-13-45T15:04:05Z",  # no such month
        "2022-02-30T15:04:05Z",  # no such day
        "2022-01-02T23:59:60Z",  # Python has no leap second
        "2022-01-02T15:04:05Z\n",
        1641135845,
        ["2022-01-02T15:04:05Z"],
    ],
)
def test_created_at_must_be_an_rfc_3339_time(created_at: Any) -> None:
    assert problems_of({"event": "E", "createdAt": created_at}) == [
        ("$.createdAt", "must be an RFC 3339 time")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-01-02T15:04:05Z", datetime(2022, 1, 2, 15, 4, 5, tzinfo=UTC)),
        ("2022-01-02t15:04:05z", datetime(2022, 1, 2, 15, 4, 5, tzinfo=UTC)),
        (
            "2022-01-02T15:04:05.123456789Z",
            datetime(2022, 1, 2, 15, 4, 5, 123456, tzinfo=UTC),
        ),
        (
            "2022-01-02T15:04:05-23:59",
            datetime(
                2022, 1, 2, 15, 4, 5, tzinfo=timezone(-timedelta(hours=23, minutes=59))
            ),
        ),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
    ],
)
def test_rfc_3339_times_parse_to_aware_datetimes(text: str, expected: datetime) -> None:
    assert parse_rfc3339(text) == expected
