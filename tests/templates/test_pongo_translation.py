"""The pongo2 → Jinja2 source translation, and what it must leave alone."""

from __future__ import annotations

import pytest

from templates import TemplateEngine
from templates import TemplateSyntaxError
from templates import translate


@pytest.mark.parametrize(
    ("pongo", "jinja"),
    [
        ("{{ x|upper }}", "{{ x|upper }}"),
        ("{{ x|match:'^a' }}", "{{ x|match('^a') }}"),
        ('{{ x | match: "^a" }}', '{{ x |match("^a") }}'),
        (
            "{{ x|key:Event.Payload.status|upper }}",
            "{{ x|key(Event.Payload.status)|upper }}",
        ),
        ("{{ x|key:a.0.b }}", "{{ x|key(a.0.b) }}"),
        ("{{ x|index:-1 }}", "{{ x|index(-1) }}"),
        ("{{ x|index:2 }}", "{{ x|index(2) }}"),
        ("{{ x|key:f(1, 2) }}", "{{ x|key(f(1, 2)) }}"),
        ("{{ f(x|key:'a') }}", "{{ f(x|key('a')) }}"),
        ("{{ x|split:','|first }}", "{{ x|split(',')|first }}"),
        ("{{ x|default:'n/a' }}", "{{ x|default('n/a', true) }}"),
        ("{% if a && b %}", "{% if a  and  b %}"),
        ("{% if a || b %}", "{% if a  or  b %}"),
        ("{% if !a %}", "{% if  not a %}"),
        ("{% if !(a&&b) %}", "{% if  not (a and b) %}"),
        ("{% if a != b %}", "{% if a != b %}"),
        ("{% if a <> b %}", "{% if a != b %}"),
        ("{{ 2^10 }}", "{{ 2**10 }}"),
        ("{{ forloop.Counter }}", "{{ loop.index }}"),
        (
            "{{ forloop.Counter0 }}-{{ forloop.Last }}",
            "{{ loop.index0 }}-{{ loop.last }}",
        ),
        (
            "{% for a in b %}x{% empty %}y{% endfor %}",
            "{% for a in b %}x{% else %}y{% endfor %}",
        ),
        (
            "{% autoescape off %}x{% endautoescape %}",
            "{% autoescape false %}x{% endautoescape %}",
        ),
        (
            "{% verbatim %}{{ a|b:c }}{% endverbatim %}",
            "{% raw %}{{ a|b:c }}{% endraw %}",
        ),
    ],
)
def test_translates_pongo2_syntax(pongo: str, jinja: str) -> None:
    assert translate(pongo) == jinja


@pytest.mark.parametrize(
    "source",
    [
        "plain text with a|b:c && d || !e",
        "{{ 'a|b:c && d || !e' }}",
        '{{ "it\'s: && \\" || !" }}',
        "{{ x|f('%}') }}{{ y }}",
        "{# a|b:c && d #}",
        "{% raw %}{{ a|b:c && d }}{% endraw %}",
        "{{ {'a': x|upper} }}",
        "{{ {'a': {'b': 1}} }}",
        "{{ x[a|int:b] }}",
        "{{ x|default('a') }}",
        "{% if a and not b or c != d %}x{% endif %}",
        "{{ a ~ b }}",
        "{{ x is match('a:b') }}",
        "{% set x = {'k': 'v'} %}",
        "{{ '\\n\\t\\\\ \\x41\\u0041' }}",
    ],
)
def test_leaves_jinja_syntax_literals_and_text_alone(source: str) -> None:
    assert translate(source) == source


def test_unknown_escapes_keep_their_backslash() -> None:
    assert translate(r"{{ '\s+\d' }}") == r"{{ '\\s+\\d' }}"


def test_string_literal_with_operators_renders_unchanged(
    engine: TemplateEngine,
) -> None:
    assert engine.render("{{ 'a && b || !c:d' }}", {}) == "a && b || !c:d"


def test_literal_text_is_never_translated(engine: TemplateEngine) -> None:
    assert engine.render("a && b|c:d {{ 1 }}", {}) == "a && b|c:d 1"


def test_unknown_escape_renders_as_in_go_and_python(engine: TemplateEngine) -> None:
    assert engine.render(r"{{ '\s' }}", {}) == r"\s"


def test_newlines_are_preserved_for_line_numbers(engine: TemplateEngine) -> None:
    source = "{{ x |\n match : 'a' }}\n\n{{ y |}}"
    assert translate(source).count("\n") == source.count("\n")
    with pytest.raises(TemplateSyntaxError) as raised:
        engine.check_syntax(source)
    assert raised.value.lineno == 4


def test_unterminated_block_is_left_for_jinja_to_reject(engine: TemplateEngine) -> None:
    assert translate("{{ x|a:b") == "{{ x|a(b)"
    with pytest.raises(TemplateSyntaxError):
        engine.check_syntax("{{ x|a:b")


def test_backticks_are_a_syntax_error(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateSyntaxError):
        engine.check_syntax('{% if `a` == "a" %}Should fail{% endif %}')


def test_forloop_in_a_real_loop(engine: TemplateEngine) -> None:
    source = (
        "{% for c in cs %}{{ forloop.Counter }}"
        "{% if !forloop.Last %},{% endif %}{% endfor %}"
    )
    assert engine.render(source, {"cs": "abc"}) == "1,2,3"


def test_empty_tag_renders_fallback(engine: TemplateEngine) -> None:
    source = "{% for c in cs %}{{ c }}{% empty %}none{% endfor %}"
    assert engine.render(source, {"cs": []}) == "none"


def test_verbatim_is_output_as_is(engine: TemplateEngine) -> None:
    source = "{% verbatim %}{{ a|b:c }}{% endverbatim %}!"
    assert engine.render(source, {}) == "{{ a|b:c }}!"
