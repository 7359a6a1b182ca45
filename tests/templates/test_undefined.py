"""Undefined names: still rendered ``""``, but recorded by the dotted path reached."""

from __future__ import annotations

from typing import Any

import pytest

from templates import TemplateEngine
from templates import tracking_undefined

CONTEXT: dict[str, Any] = {
    "Event": {"Payload": {"text": "hi", "nested": {"a": 1}, "items": [{"x": 1}]}},
    "Context": {},
}


@pytest.fixture(scope="module")
def engine() -> TemplateEngine:
    return TemplateEngine()


def touched(engine: TemplateEngine, source: str) -> tuple[str, tuple[str, ...]]:
    with tracking_undefined() as names:
        text = engine.render(source, CONTEXT)
    return text, names.names()


def test_a_missing_chain_renders_empty_and_names_its_whole_path(
    engine: TemplateEngine,
) -> None:
    source = "Hello, {{ Event.Payload.user.name.first|upper }}!"
    assert touched(engine, source) == ("Hello, !", ("Event.Payload.user.name.first",))


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("{{ Nope }}", ("Nope",)),
        ("{{ Nope.deeper }}", ("Nope.deeper",)),
        ("{{ Event.Payload.nested.b }}", ("Event.Payload.nested.b",)),
        ("{{ Event.Payload['user'].id }}", ("Event.Payload.user.id",)),
        ("{{ Event.Payload.items.0.y }}", ("Event.Payload.items.0.y",)),
        ("{{ Context.ChannelID }}{{ Nope }}", ("Context.ChannelID", "Nope")),
        ("{% if Event.Payload.flag %}y{% endif %}", ("Event.Payload.flag",)),
    ],
)
def test_each_undefined_value_touched_is_named(
    engine: TemplateEngine, source: str, names: tuple[str, ...]
) -> None:
    assert touched(engine, source)[1] == names


@pytest.mark.parametrize(
    "source",
    [
        "{{ Event.Payload.text }}{{ Event.Payload.nested.a }}",
        "{{ Event.Payload.user|default('anon') }}",
        "{{ Event.Payload.user.name|default:'anon' }}",
        "{{ Event.Payload.user|d('anon') }}",
        "{% if Event.Payload.user is defined %}y{% endif %}",
        "{% if Event.Payload.user is undefined %}y{% endif %}",
        "no template at all",
    ],
)
def test_defined_values_and_missing_values_handled_on_purpose_are_not_named(
    engine: TemplateEngine, source: str
) -> None:
    assert touched(engine, source)[1] == ()


def test_without_tracking_rendering_is_upstreams(engine: TemplateEngine) -> None:
    assert engine.render("Hello, {{ Event.Payload.user.name }}!", CONTEXT) == "Hello, !"


def test_tracking_covers_resolve_and_criteria(engine: TemplateEngine) -> None:
    with tracking_undefined() as names:
        engine.resolve({"to": "{{ Event.Payload.to }}"}, CONTEXT)
        engine.evaluate_criteria("{{ Event.Payload.ok == 'y' }}", CONTEXT)
    assert names.names() == ("Event.Payload.to", "Event.Payload.ok")
