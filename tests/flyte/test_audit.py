"""The audit: query parameters (pure) and execution assembly (on real stores)."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any

import pytest

from flyte.audit import Audit
from flyte.audit import Evaluation
from flyte.audit_query import DEFAULT_LIMIT
from flyte.audit_query import MAX_LIMIT
from flyte.audit_query import MAX_START
from flyte.audit_query import AuditQuery
from flyte.audit_query import parse_audit_query
from flyte.audit_query import parse_labels
from flyte.engine import FlowEngine
from flyte.errors import ExecutionNotFound
from flyte.errors import InvalidAuditQuery
from flyte.event import Event
from flyte.event import PackRef
from flyte.flow import parse_flow
from flyte.outcome import StepOutcome
from flyte.outcome import StepStatus
from flyte.store import Stores
from templates import TemplateEngine

# --- query parameters ------------------------------------------------------------


def test_no_parameters_is_the_first_page_of_everything() -> None:
    assert parse_audit_query({}) == AuditQuery(start=0, limit=DEFAULT_LIMIT)


def test_every_filter_is_read() -> None:
    query = parse_audit_query(
        {
            "flowName": "deploy",
            "stepId": "build",
            "actionName": "Shell",
            "actionPackName": "Shell",
            "actionPackLabels": "env:dev,foo:bar",
            "start": "10",
            "limit": "10",
        }
    )
    assert query == AuditQuery(
        flow_name="deploy",
        step_id="build",
        action_name="Shell",
        action_pack_name="Shell",
        action_pack_labels={"env": "dev", "foo": "bar"},
        start=10,
        limit=10,
    )


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("env:dev,foo:bar", {"env": "dev", "foo": "bar"}),
        (" env : dev , foo:bar ", {"env": "dev", "foo": "bar"}),
        ("env:dev,broken,a:b:c,:x,dc:", {"env": "dev", "dc": ""}),
        ("", {}),
        (",,,", {}),
    ],
)
def test_pack_labels_parse_as_upstream(text: str, labels: dict[str, str]) -> None:
    assert parse_labels(text) == labels


def test_empty_filters_are_ignored_and_the_first_of_repeated_values_wins() -> None:
    query = parse_audit_query(
        {"flowName": "", "stepId": ["a", "b"], "start": "", "limit": ""}
    )
    assert query == AuditQuery(step_id="a")


def test_limit_is_lowered_to_the_maximum() -> None:
    assert parse_audit_query({"limit": "501"}).limit == MAX_LIMIT
    assert parse_audit_query({"limit": "9" * 5000}).limit == MAX_LIMIT


def test_a_huge_start_is_lowered_to_what_mongodb_takes() -> None:
    assert parse_audit_query({"start": "9" * 30}).start == MAX_START


@pytest.mark.parametrize(
    ("params", "locations"),
    [
        ({"start": "-1"}, ["start"]),
        ({"start": "ten"}, ["start"]),
        ({"start": "1.5"}, ["start"]),
        ({"start": " 1"}, ["start"]),
        ({"limit": "0"}, ["limit"]),
        ({"limit": "-5"}, ["limit"]),
        ({"limit": "+5"}, ["limit"]),
        ({"limit": "0x10"}, ["limit"]),
        ({"start": "x", "limit": "0"}, ["start", "limit"]),
        ({"actionPackLabels": "a.b:c,$where:1"}, ["actionPackLabels"] * 2),
    ],
)
def test_unusable_paging_is_a_validation_error(
    params: dict[str, Any], locations: list[str]
) -> None:
    with pytest.raises(InvalidAuditQuery) as caught:
        parse_audit_query(params)
    assert [p.location for p in caught.value.problems] == locations


def test_the_error_says_what_is_expected() -> None:
    with pytest.raises(
        InvalidAuditQuery, match="limit: must be an integer of at least 1"
    ):
        parse_audit_query({"limit": "0"})


# --- executions ------------------------------------------------------------------

T0 = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
FLOW = {
    "name": "f",
    "steps": [
        {
            "id": "run",
            "event": {"packName": "Slack", "name": "Msg"},
            "command": {"packName": "Shell", "name": "Run"},
        },
        {
            "id": "never",
            "event": {"packName": "Slack", "name": "Msg"},
            "criteria": "{{ false }}",
            "command": {"packName": "Shell", "name": "Run"},
        },
    ],
}


def start(stores: Stores, flow: dict[str, Any] = FLOW) -> str:
    """Store the flow, process one event; return the correlation id it started."""
    stores.flows.add(parse_flow(flow, TemplateEngine().check_syntax))
    event = Event("e1", "Msg", PackRef("Slack", "Slack"), T0, T0)
    stores.events.add(event, T0)
    [outcome] = FlowEngine(stores, TemplateEngine(), clock=lambda: T0).process("e1")
    return outcome.correlation_id


def test_an_execution_has_its_flow_actions_trigger_and_evaluations(
    stores: Stores,
) -> None:
    correlation = start(stores)
    execution = Audit(stores).get_execution(correlation)
    assert execution.flow.name == "f"
    assert [a.step_id for a in execution.actions] == ["run"]
    assert execution.trigger is not None and execution.trigger.id == "e1"
    action_id = execution.actions[0].id
    assert execution.evaluations == (
        Evaluation("e1", "Msg", StepOutcome("run", StepStatus.FIRED, "", action_id)),
        Evaluation(
            "e1", "Msg", StepOutcome("never", StepStatus.SKIPPED, "criteria false")
        ),
    )
    assert Audit(stores).find_executions(AuditQuery()) == [execution]


def test_the_trigger_is_taken_from_the_actions_once_the_event_expired(
    stores: Stores,
) -> None:
    correlation = start(stores)
    stores.events.delete("e1")
    execution = Audit(stores).get_execution(correlation)
    assert execution.trigger is not None and execution.trigger.id == "e1"
    assert execution.evaluations == ()


def test_a_correlation_where_nothing_fired_is_shown_but_not_listed(
    stores: Stores,
) -> None:
    flow = {**FLOW, "steps": FLOW["steps"][1:]}
    correlation = start(stores, flow)
    execution = Audit(stores).get_execution(correlation)
    assert execution.actions == ()
    assert [e.step.status for e in execution.evaluations] == [StepStatus.SKIPPED]
    assert execution.trigger is not None
    assert Audit(stores).find_executions(AuditQuery()) == []


def test_an_unknown_correlation_is_not_found(stores: Stores) -> None:
    with pytest.raises(ExecutionNotFound, match="'nope'"):
        Audit(stores).get_execution("nope")


def test_a_correlation_whose_flow_version_is_gone_is_left_out(
    stores: Stores, caplog: pytest.LogCaptureFixture
) -> None:
    correlation = start(stores)
    stores.db["flowHistory"].delete_many({})
    assert Audit(stores).find_executions(AuditQuery()) == []
    assert f"correlation={correlation}" in caplog.text
    with pytest.raises(ExecutionNotFound, match="no longer exists"):
        Audit(stores).get_execution(correlation)
