"""Contract tests of FlowStore; they run unchanged on nx-27017 or real MongoDB."""

from __future__ import annotations

import pytest

from flyte.errors import FlowNotFound
from flyte.flow import Flow
from flyte.flow import Step
from flyte.flow import StepCommand
from flyte.flow import StepEvent
from flyte.store import Stores


def make_flow(
    name: str = "deploy", pack: str = "Slack", event: str = "Msg", **kw
) -> Flow:
    trigger = Step(
        id="start",
        event=StepEvent(event, pack, {"env": "dev"}),
        command=StepCommand(
            "Run", "Shell", {"env": "{{ Context.env }}"}, {"a": [1, "x"]}
        ),
        context={"env": "{{ Event.Pack.Labels.env }}"},
        criteria="{{ true }}",
    )
    follow = Step(
        id="next",
        event=StepEvent("Output", "Shell"),
        command=StepCommand("Send", "Slack"),
        depends_on=("start",),
    )
    return Flow(name=name, steps=(trigger, follow), **kw)


def test_add_assigns_a_version_uuid_and_get_returns_the_latest(stores: Stores) -> None:
    stored = stores.flows.add(make_flow(description="d"))
    assert stored.uuid
    assert stores.flows.get("deploy") == stored


def test_every_add_is_a_new_version_and_history_is_kept(stores: Stores) -> None:
    first = stores.flows.add(make_flow(description="one"))
    second = stores.flows.add(make_flow(description="two"))
    assert first.uuid != second.uuid
    assert stores.flows.get("deploy").description == "two"
    assert stores.flows.get_version(first.uuid).description == "one"
    assert stores.flows.get_version(second.uuid) == second


def test_get_unknown_flow_raises_flow_not_found(stores: Stores) -> None:
    with pytest.raises(FlowNotFound):
        stores.flows.get("nope")
    with pytest.raises(FlowNotFound):
        stores.flows.get_version("nope")


def test_list_is_sorted_by_name_without_steps(stores: Stores) -> None:
    for name in ("zeta", "alpha", "mid"):
        stores.flows.add(make_flow(name, description=f"about {name}"))
    flows = stores.flows.list_flows()
    assert [f.name for f in flows] == ["alpha", "mid", "zeta"]
    assert flows[0].description == "about alpha"
    assert all(f.steps == () for f in flows)


def test_delete_keeps_versions_for_running_correlations(stores: Stores) -> None:
    stored = stores.flows.add(make_flow())
    stores.flows.delete("deploy")
    with pytest.raises(FlowNotFound):
        stores.flows.get("deploy")
    assert stores.flows.get_version(stored.uuid) == stored
    with pytest.raises(FlowNotFound):
        stores.flows.delete("deploy")


def test_find_by_trigger_matches_trigger_steps_only(stores: Stores) -> None:
    stores.flows.add(make_flow("b", "Slack", "Msg"))
    stores.flows.add(make_flow("a", "Slack", "Msg"))
    stores.flows.add(make_flow("other", "Slack", "Other"))
    assert [f.name for f in stores.flows.find_by_trigger("Slack", "Msg")] == ["a", "b"]
    # "Shell/Output" only appears on a dependsOn step.
    assert stores.flows.find_by_trigger("Shell", "Output") == []


def test_find_by_trigger_sees_only_latest_versions(stores: Stores) -> None:
    stores.flows.add(make_flow("a", "Slack", "Msg"))
    stores.flows.add(make_flow("a", "Slack", "Changed"))
    assert stores.flows.find_by_trigger("Slack", "Msg") == []
    assert len(stores.flows.find_by_trigger("Slack", "Changed")) == 1


def test_a_deleted_flow_is_no_longer_found_by_trigger(stores: Stores) -> None:
    stores.flows.add(make_flow("a", "Slack", "Msg"))
    stores.flows.delete("a")
    assert stores.flows.find_by_trigger("Slack", "Msg") == []


def test_trigger_keys_do_not_collide_across_name_boundaries(stores: Stores) -> None:
    stores.flows.add(make_flow("a", "Sl/ack", "Msg"))
    assert stores.flows.find_by_trigger("Sl", "ack/Msg") == []
