"""Flow validation: every problem reported with its location; ids generated stably."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flyte.errors import InvalidFlow
from flyte.flow import parse_flow
from templates import TemplateEngine

FLOWS = Path(__file__).resolve().parents[1] / "data" / "flows"
check = TemplateEngine().check_syntax


def step(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event": {"name": "Msg", "packName": "Slack"},
        "command": {"name": "Run", "packName": "Shell"},
    }
    body.update(overrides)
    return body


def problems_of(body: Any) -> list[dict[str, str]]:
    with pytest.raises(InvalidFlow) as info:
        parse_flow(body, check)
    return [p.to_dict() for p in info.value.problems]


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.yaml")), ids=lambda p: p.stem)
def test_documented_flows_load_and_validate(path: Path) -> None:
    flow = parse_flow(yaml.safe_load(path.read_text()), check)
    assert flow.steps


def test_steps_without_id_get_stable_ids_that_never_clash() -> None:
    body = {"name": "f", "steps": [step(), step(id="step-1"), step()]}
    ids = [s.id for s in parse_flow(body, check).steps]
    assert ids == ["step-1_", "step-1", "step-3"]
    assert [s.id for s in parse_flow(body, check).steps] == ids


def test_every_problem_is_listed_not_just_the_first() -> None:
    body = {
        "name": "f",
        "steps": [
            step(id="a", criteria="{{ Event.Payload.x |match:'a' "),
            step(id="a", dependsOn=["ghost"]),
            step(
                id="c",
                context={"k": "{% if %}"},
                command={
                    "name": "R",
                    "packName": "S",
                    "input": {"deep": ["ok", "{{ oops( }}"]},
                },
            ),
        ],
    }
    found = problems_of(body)
    locations = [(p["location"], p.get("step")) for p in found]
    assert locations == [
        ("$.steps[1].id", "a"),
        ("$.steps[1].dependsOn[0]", "a"),
        ("$.steps[0].criteria", "a"),
        ("$.steps[2].context.k", "c"),
        ("$.steps[2].command.input.deep[1]", "c"),
    ]
    assert "ghost" in found[1]["message"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({}, "$.name"),
        ({"name": "f"}, "$.steps"),
        ({"name": "", "steps": []}, "$.name"),
        ({"name": "a/b", "steps": []}, "$.name"),
        (
            {"name": "f", "steps": [{"command": {"name": "R", "packName": "S"}}]},
            "$.steps[0].event",
        ),
        ({"name": "f", "steps": [step(id=3)]}, "$.steps[0].id"),
        ({"name": "f", "steps": [step(dependsOn="x")]}, "$.steps[0].dependsOn"),
        ({"name": "f", "steps": [step(context={"a": 1})]}, "$.steps[0].context.a"),
        (
            {
                "name": "f",
                "steps": [
                    step(event={"name": "M", "packName": "S", "packLabels": {"a": 1}})
                ],
            },
            "$.steps[0].event.packLabels.a",
        ),
        (
            {"name": "f", "steps": [step(event={"name": "M\nN", "packName": "S"})]},
            "$.steps[0].event.name",
        ),
        (["not", "an", "object"], "$"),
    ],
)
def test_schema_violations_name_their_location(body: Any, location: str) -> None:
    assert location in [p["location"] for p in problems_of(body)]


def test_multi_line_description_and_criteria_are_allowed() -> None:
    body = {
        "name": "f",
        "description": "two\nlines",
        "steps": [step(criteria="{{ true }}\n")],
    }
    assert parse_flow(body, check).description == "two\nlines"


def test_to_dict_omits_empty_keys_and_always_shows_input() -> None:
    flow = parse_flow({"name": "f", "steps": [step(id="s")]}, check)
    assert flow.to_dict() == {
        "name": "f",
        "steps": [
            {
                "id": "s",
                "event": {"name": "Msg", "packName": "Slack"},
                "command": {"name": "Run", "packName": "Shell", "input": None},
            }
        ],
    }


def resolved_steps(path: Path, event: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step's context, criteria and input, rendered as the engine will."""
    engine = TemplateEngine()
    flow = parse_flow(yaml.safe_load(path.read_text()), check)
    results = []
    context: dict[str, Any] = {}
    for step in flow.steps:
        variables = {"Event": event, "Context": context}
        context = {**context, **engine.resolve(dict(step.context), variables)}
        variables = {"Event": event, "Context": context}
        results.append(
            {
                "context": context,
                "criteria": engine.evaluate_criteria(step.criteria, variables),
                "input": engine.resolve(step.command.input, variables),
            }
        )
    return results


@pytest.mark.parametrize("thread", ["", "1700000000.0001"])
def test_upstream_flow_and_its_jinja_twin_resolve_to_the_same_inputs(
    thread: str,
) -> None:
    payload = {
        "message": "flyte   uk-bank-holidays",
        "threadTimestamp": thread,
        "timestamp": "1700000000.0002",
        "channelId": "C123",
        "user": {"id": "U42"},
        "exit_code": 0,
        "stdout": "25 December",
    }
    event = {"Name": "ReceivedMessage", "Payload": payload, "Pack": {"Name": "Slack"}}
    upstream = resolved_steps(FLOWS / "quickstart.yaml", event)
    jinja = resolved_steps(FLOWS / "quickstart_jinja.yaml", event)
    assert upstream == jinja
    assert upstream[0]["criteria"] is True
    assert upstream[0]["context"]["Tts"] == (thread or "1700000000.0002")
    assert (
        upstream[1]["input"]["message"] == "Hey <@U42>! Next bank holidays: 25 December"
    )


@pytest.mark.parametrize(
    ("body", "location", "message"),
    [
        (
            {"name": "f", "steps": [], "descripton": "x"},
            "$.descripton",
            "unknown key; did you mean `description`?",
        ),
        (
            {"name": "f", "steps": [step(dependson=["a"])]},
            "$.steps[0].dependson",
            "unknown key; did you mean `dependsOn`?",
        ),
        (
            {"name": "f", "steps": [step(Criteria="x")]},
            "$.steps[0].Criteria",
            "unknown key; did you mean `criteria`?",
        ),
        (
            {
                "name": "f",
                "steps": [step(event={"name": "M", "packName": "P", "pack": 1})],
            },
            "$.steps[0].event.pack",
            "unknown key; did you mean `packName`?",
        ),
        (
            {
                "name": "f",
                "steps": [step(command={"name": "R", "packName": "P", "x": 1})],
            },
            "$.steps[0].command.x",
            "unknown key; known keys: name, packName, packLabels, input",
        ),
    ],
    ids=["flow", "step", "step-case", "event", "command-no-match"],
)
def test_unknown_keys_are_refused_at_every_level(
    body: dict[str, Any], location: str, message: str
) -> None:
    assert problems_of(body) == [{"location": location, "message": message}]


def test_upstreams_ignored_labels_key_loads_and_is_dropped() -> None:
    body = {
        "name": "f",
        "steps": [step(command={"name": "R", "packName": "P", "labels": {"a": "b"}})],
    }
    [only] = parse_flow(body, check).steps
    assert only.command.pack_labels == {}
    assert "labels" not in only.command.to_dict()
