"""matchesCron: gronx's expression rules evaluated with croniter."""

from __future__ import annotations

import re

import pytest

from templates import TemplateEngine
from templates import TemplateError
from templates.cron import CronError
from templates.cron import matches_cron
from templates.cron import parse_cron
from templates.cron import parse_rfc3339

# 2018-02-14 is a Wednesday.
WED = "2018-02-14T23:18:09.0481031Z"


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("18 23 * * *", True),
        ("19 23 * * *", False),
        ("* * * * *", True),
        ("*/2 23 * * *", True),
        ("*/5 * * * *", False),
        ("15-20 * * * *", True),
        ("0,18,30 * * * *", True),
        ("18 23 14 2 3", True),
        ("18 23 14 2 WED", True),
        ("18 23 14 feb wed", True),
        ("18 23 * FEB MON-FRI", True),
        ("18 23 * JAN *", False),
        ("18 23 * * SUN", False),
        # Day-of-month AND day-of-week must both match (gronx), unlike Vixie cron's OR.
        ("18 23 1 * 3", False),
        ("18 23 14 * 1", False),
        ("18 23 ? * ?", True),
        ("18 23 * * 3#2", True),
        ("18 23 * * 3#3", False),
        ("18 23 14W * *", True),
        # Sixth field is the YEAR, not seconds.
        ("18 23 * * * 2018", True),
        ("18 23 * * * 2019", False),
        ("18 23 * * * 2010-2020", True),
        ("18 23 * * * 2016/2", True),
        ("18 23 * * * 2017/2", False),
        ("18 23 * * * */2", True),
        ("18 23 * * * 2017,2018", True),
        ("18 23 * * * *", True),
        ("  18   23 * * *  ", True),
        ("@always", True),
        ("@hourly", False),
        ("@daily", False),
    ],
)
def test_matches_cron(expression: str, expected: bool) -> None:
    assert matches_cron(WED, expression) is expected


@pytest.mark.parametrize(
    ("timestamp", "expression"),
    [
        ("2018-01-01T00:00:00Z", "@yearly"),
        ("2018-01-01T00:00:00Z", "@annually"),
        ("2018-03-01T00:00:59Z", "@monthly"),
        ("2018-02-18T00:00:00Z", "@weekly"),
        ("2018-02-14T00:00:00Z", "@daily"),
        ("2018-02-14T07:00:00Z", "@hourly"),
        ("2018-02-14T07:35:00Z", "@5minutes"),
        ("2018-02-14T07:50:00Z", "@10minutes"),
        ("2018-02-14T07:45:00Z", "@15minutes"),
        ("2018-02-14T07:30:00Z", "@30minutes"),
        ("2018-02-14T07:30:00Z", "@30MINUTES"),
        ("2018-02-28T10:00:00Z", "0 10 L * *"),
        ("2018-02-28T10:00:00Z", "0 10 * * 3L"),
    ],
)
def test_macros_and_modifiers(timestamp: str, expression: str) -> None:
    assert matches_cron(timestamp, expression)


def test_evaluated_in_the_timestamps_own_zone() -> None:
    assert matches_cron("2018-02-14T23:18:00+02:00", "18 23 * * *")
    assert not matches_cron("2018-02-14T23:18:00+02:00", "18 21 * * *")
    assert matches_cron("2018-02-14T23:18:00-05:30", "18 23 14 * *")


@pytest.mark.parametrize(
    "timestamp",
    [
        "not a date",
        "2018-02-14 23:18:09Z",
        "2018-02-14T23:18:09",
        "2018-02-30T23:18:09Z",
        "2018-02-14T24:00:00Z",
        "2018-02-14T23:18:09+25:00",
        "",
    ],
)
def test_invalid_dates(timestamp: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"invalid date: '{timestamp}'")):
        parse_rfc3339(timestamp)


@pytest.mark.parametrize(
    "expression",
    [
        "not a cron expression",
        "* * * *",
        "* * * * * * *",
        "60 * * * *",
        "*/0 * * * *",
        "* * * * * 20x8",
        "* * * * * */0",
        "",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(CronError, match="invalid cron expression"):
        parse_cron(expression)


def test_invalid_expression_through_the_filter_is_a_template_error(
    engine: TemplateEngine,
) -> None:
    with pytest.raises(TemplateError, match="expected 5 or 6 fields"):
        engine.render("{{ t|matchesCron:'* *' }}", {"t": WED})


def test_due_check_from_flow_context(engine: TemplateEngine) -> None:
    source = "{{ Event.CreatedAt|matchesCron:'*/15 9-17 * * MON-FRI' }}"
    assert engine.evaluate_criteria(
        source, {"Event": {"CreatedAt": "2024-05-06T09:45:12Z"}}
    )
    assert not engine.evaluate_criteria(
        source, {"Event": {"CreatedAt": "2024-05-05T09:45:12Z"}}
    )
