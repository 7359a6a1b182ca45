"""Rendering rules, resolve, criteria and the engine's public API."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from templates import CriteriaError
from templates import TemplateEngine
from templates import TemplateError
from templates import TemplateSyntaxError
from templates import to_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (True, "True"),
        (False, "False"),
        (3, "3"),
        (-7, "-7"),
        (2.5, "2.5"),
        (3.0, "3"),
        (-0.0, "0"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-5, "0.000015"),
        (1e-7, "1e-7"),
        (0.1 + 0.2, "0.30000000000000004"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        ("text", "text"),
        ([1, "a", None, 2.0], '[1,"a",null,2]'),
        ({"a": {"b": [True]}}, '{"a":{"b":[true]}}'),
        ({"é": "ʘ"}, '{"é":"ʘ"}'),
        ((1, 2), "[1,2]"),
        (b"raw", "raw"),
    ],
)
def test_rendering_rules(engine: TemplateEngine, value: Any, text: str) -> None:
    assert to_text(value) == text
    assert engine.render("{{ v }}", {"v": value}) == text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ Event.Payload.non.existent.field }}", ""),
        ("{{ Event.Payload.nothing }}", ""),
        ("{{ Event.Payload.nothing.deeper }}", ""),
        ("{{ nope }}", ""),
        ("{{ Event.Payload.count == 3.0 }}", "True"),
        ("{{ Event.Payload.whole == 3 }}", "True"),
        ("{{ Event.Payload.whole }}", "3"),
        ("{{ Event.Payload.ratio * 2 }}", "5"),
        ("{{ Event.Payload.count / 2 }}", "1.5"),
        ("{{ Event.Payload.flag }}", "True"),
        ("{{ Event.Payload.items }}", '["a","b"]'),
        ("{{ Event.Payload.commits.1.commitId }}", "2345"),
        ("{{ Event.Payload.commits[2]['commitId'] }}", "3456"),
        ("{{ Event.Payload.metadata._PreviousLabel }}", "CSVC.59.0.29"),
        ("{{ Event.Pack.Labels.network }}", "lab"),
        ("{{ 'n=' ~ Event.Payload.whole ~ Event.Payload.nothing }}", "n=3"),
        ("{{ '%s' % Event.Payload.whole }}", "3"),
        ("{{ '{}'.format(Event.Payload.whole) }}", "3"),
        ("{{ Event.Payload.missing == '' }}", "False"),
        ("{{ Event.Payload.missing != '' }}", "True"),
    ],
)
def test_context_access(
    engine: TemplateEngine, context: dict[str, Any], source: str, expected: str
) -> None:
    assert engine.render(source, context) == expected


def test_json_map_keys_win_over_dict_methods(engine: TemplateEngine) -> None:
    payload = {"items": "mine", "keys": 1, "values": [1], "get": "g"}
    rendered = engine.render(
        "{{ p.items }}|{{ p.keys }}|{{ p.values }}|{{ p.get }}", {"p": payload}
    )
    assert rendered == "mine|1|[1]|g"


def test_dict_methods_still_work_when_no_key_shadows_them(
    engine: TemplateEngine,
) -> None:
    source = "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}"
    assert engine.render(source, {"d": {"a": 1, "b": 2}}) == "a=1;b=2;"


def test_integer_dot_index_finds_string_keys_of_maps(engine: TemplateEngine) -> None:
    assert engine.render("{{ m.0 }}", {"m": {"0": "zero"}}) == "zero"


def test_trailing_newline_and_whitespace_are_kept(engine: TemplateEngine) -> None:
    assert engine.render("echo {{ x }}\n", {"x": "hi"}) == "echo hi\n"
    assert engine.render("  {% if true %}a{% endif %}  \n", {}) == "  a  \n"


def test_plain_strings_are_returned_untouched(engine: TemplateEngine) -> None:
    assert engine.render("a\r\nb} %", {}) == "a\r\nb} %"


def test_resolve_renders_string_leaves_only(
    engine: TemplateEngine, context: dict[str, Any]
) -> None:
    value = {
        "{{ key }}": "{{ Event.Name }}",
        "bool": True,
        "number": 34,
        "none": None,
        "array": ["{{ Context.status }}", "haha", {"deep": ["{{ 1 + 1 }}"]}],
        "tuple": ("{{ 'x' }}",),
    }
    original = copy.deepcopy(value)
    resolved = engine.resolve(value, context)
    assert resolved == {
        "{{ key }}": "InventoryUpdateSuccess",
        "bool": True,
        "number": 34,
        "none": None,
        "array": ["pending", "haha", {"deep": ["2"]}],
        "tuple": ("x",),
    }
    assert value == original, "the original value must not be mutated"


def test_resolve_of_a_plain_string_and_scalars(engine: TemplateEngine) -> None:
    assert engine.resolve("{{ 1 }}", {}) == "1"
    assert engine.resolve(5, {}) == 5
    assert engine.resolve(None, {}) is None


def test_resolve_error_names_the_failing_leaf(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateError) as raised:
        engine.resolve({"a": ["ok", "{{ randomAlpha(-1) }}"]}, {})
    assert raised.value.source == "{{ randomAlpha(-1) }}"


@pytest.mark.parametrize("text", ["1", "t", "T", "TRUE", "true", "True"])
def test_criteria_true_spellings(engine: TemplateEngine, text: str) -> None:
    assert engine.evaluate_criteria(text, {}) is True
    assert engine.evaluate_criteria("{{ v }}", {"v": text}) is True


@pytest.mark.parametrize("text", ["0", "f", "F", "FALSE", "false", "False"])
def test_criteria_false_spellings(engine: TemplateEngine, text: str) -> None:
    assert engine.evaluate_criteria(text, {}) is False


def test_criteria_tolerates_surrounding_whitespace(engine: TemplateEngine) -> None:
    assert engine.evaluate_criteria("  {{ true }}\n", {}) is True
    assert engine.evaluate_criteria("{% if x %}\n  True\n{% endif %}", {"x": 1}) is True


def test_empty_criteria_means_true(engine: TemplateEngine) -> None:
    assert engine.evaluate_criteria("", {}) is True


@pytest.mark.parametrize(
    ("source", "rendered"),
    [
        ("{{ 'yes' }}", "yes"),
        ("{{ nope }}", ""),
        ("{{ 2 }}", "2"),
        ("tRuE", "tRuE"),
        ("   ", "   "),
    ],
)
def test_criteria_that_is_not_a_boolean_is_an_error(
    engine: TemplateEngine, source: str, rendered: str
) -> None:
    with pytest.raises(CriteriaError) as raised:
        engine.evaluate_criteria(source, {})
    assert raised.value.rendered == rendered
    assert repr(rendered) in str(raised.value)
    assert str(raised.value).startswith(
        f"error while evaluating expression: '{source}'"
    )


def test_criteria_render_errors_propagate_as_template_errors(
    engine: TemplateEngine,
) -> None:
    with pytest.raises(TemplateError):
        engine.evaluate_criteria("{{ 1 / 0 }}", {})


def test_check_syntax_accepts_valid_templates(engine: TemplateEngine) -> None:
    engine.check_syntax("{{ x|match:'a' && y }}{% if z %}{% endif %}")
    engine.check_syntax("no template at all")


@pytest.mark.parametrize(
    ("source", "lineno", "message"),
    [
        ("{{ nonExistingFunction| }}", 1, "expected token 'name'"),
        ("line\n{% if x %}\nno end", 2, "Unexpected end of template"),
        ("{{ x|nosuchfilter }}", 1, "No filter named 'nosuchfilter'"),
        ("{{ x is nosuchtest }}", 1, "No test named 'nosuchtest'"),
        ("{% if x is nosuchtest %}{% endif %}", 1, "No test named 'nosuchtest'"),
        ("{% if y %}\n{{ x|nosuch }}{% endif %}", 2, "No filter named 'nosuch'"),
        ("{% filter nosuch %}x{% endfilter %}", 1, "No filter named 'nosuch'"),
        ("a\nb\n{{ }}", 3, "Expected an expression"),
    ],
)
def test_check_syntax_reports_line_and_message(
    engine: TemplateEngine, source: str, lineno: int, message: str
) -> None:
    with pytest.raises(TemplateSyntaxError) as raised:
        engine.check_syntax(source)
    assert raised.value.lineno == lineno
    assert message.lower() in str(raised.value).lower()
    assert f"syntax error on line {lineno}" in str(raised.value)


def test_syntax_errors_are_raised_by_render_too(engine: TemplateEngine) -> None:
    for _ in range(2):  # the second time from the cache, as a fresh exception
        with pytest.raises(TemplateSyntaxError):
            engine.render("{{ x| }}", {})


def test_compiled_templates_are_cached_by_source() -> None:
    engine = TemplateEngine(cache_size=2)
    for _ in range(3):
        engine.render("{{ a }}", {"a": 1})
    info = engine.cache_info()
    assert (info.hits, info.misses) == (2, 1)
    engine.render("{{ b }}", {})
    engine.render("{{ c }}", {})
    engine.render("{{ a }}", {})
    assert engine.cache_info().misses == 4, "'{{ a }}' was evicted (LRU)"


def test_error_message_format_follows_upstream(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateError) as raised:
        engine.render("{{ randomAlpha(-5) }}", {})
    assert str(raised.value) == (
        "error while evaluating expression: '{{ randomAlpha(-5) }}': "
        "word length must be non-negative"
    )
    assert raised.value.reason == "word length must be non-negative"
    assert isinstance(raised.value.__cause__, ValueError)


@pytest.mark.parametrize(
    "source",
    ["{{ 1 / 0 }}", "{{ x() }}", "{{ 'a' + 1 }}", "{{ nope > 1 }}", "{{ [1][5] + 1 }}"],
)
def test_runtime_errors_become_template_errors(
    engine: TemplateEngine, source: str
) -> None:
    with pytest.raises(TemplateError):
        engine.render(source, {})


def test_functions_argument_overrides_user_keys_and_statics(
    engine: TemplateEngine,
) -> None:
    functions = {"shout": lambda s: s.upper() + "!", "base64Encode": lambda s: "mine"}
    rendered = engine.render(
        "{{ shout('hi') }} {{ base64Encode('x') }}", {"shout": "user"}, functions
    )
    assert rendered == "HI! mine"


def test_printing_the_loop_object_does_not_consume_the_loop(
    engine: TemplateEngine,
) -> None:
    source = "{% for x in [1, 2, 3] %}{{ loop }}{{ x }}{% endfor %}"
    assert engine.render(source, {}) == "<LoopContext>1<LoopContext>2<LoopContext>3"


def test_generators_from_filters_render_as_lists(engine: TemplateEngine) -> None:
    assert engine.render("{{ [1, 2]|map('string') }}", {}) == '["1","2"]'


def test_set_in_one_leaf_does_not_leak_into_the_next(engine: TemplateEngine) -> None:
    value = ["{% set Event = 1 %}{{ Event }}", "{{ Event.Name }}"]
    assert engine.resolve(value, {"Event": {"Name": "n"}}) == ["1", "n"]
