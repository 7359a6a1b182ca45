"""Pack model rules: id derivation, status thresholds, registration validation."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from flyte.clock import format_time
from flyte.errors import InvalidPack
from flyte.pack import PackStatus
from flyte.pack import pack_id
from flyte.pack import parse_pack
from flyte.pack import status_of

NOW = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "labels", "expected"),
    [
        ("Slack", {}, "Slack"),
        ("Slack", {"env": "prod"}, "Slack.env.prod"),
        (
            "Argo",
            {"x": "y", "env": "staging", "network": "lab"},
            "Argo.env.staging.network.lab.x.y",
        ),
        ("Jira", {"env": "test"}, "Jira.env.test"),
    ],
)
def test_pack_id_matches_upstream(
    name: str, labels: dict[str, str], expected: str
) -> None:
    assert pack_id(name, labels) == expected


@pytest.mark.parametrize(
    ("silence", "status"),
    [
        (timedelta(0), PackStatus.LIVE),
        (timedelta(minutes=9, seconds=59), PackStatus.LIVE),
        (timedelta(minutes=10), PackStatus.WARNING),
        (timedelta(hours=23, minutes=59), PackStatus.WARNING),
        (timedelta(hours=24), PackStatus.CRITICAL),
        (timedelta(days=356), PackStatus.CRITICAL),
    ],
)
def test_status_thresholds_are_exclusive(
    silence: timedelta, status: PackStatus
) -> None:
    assert status_of(NOW - silence, NOW) is status


def test_missing_name_is_accepted_as_upstream_does() -> None:
    assert parse_pack({}, NOW).id == ""


def test_setup_rel_is_rejected_because_upstream_matches_unanchored() -> None:
    with pytest.raises(InvalidPack, match="setup"):
        parse_pack({"name": "P", "links": [{"href": "h", "rel": "setup"}]}, NOW)


def test_help_rel_is_allowed() -> None:
    pack = parse_pack({"name": "P", "links": [{"href": "h", "rel": "help"}]}, NOW)
    assert pack.links[0].rel == "help"


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2022, 1, 2, 15, 4, 5, tzinfo=UTC), "2022-01-02T15:04:05Z"),
        (datetime(2022, 1, 2, 15, 4, 5, 120000, tzinfo=UTC), "2022-01-02T15:04:05.12Z"),
        (
            datetime(2022, 1, 2, 15, 4, 5, 123456, tzinfo=UTC),
            "2022-01-02T15:04:05.123456Z",
        ),
    ],
)
def test_times_format_as_go_rfc3339_with_trimmed_zeros(
    moment: datetime, text: str
) -> None:
    assert format_time(moment) == text
