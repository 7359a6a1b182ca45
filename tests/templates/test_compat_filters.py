"""pongo2 builtins flows rely on, and the curated Jinja2 builtins, in both syntaxes."""

from __future__ import annotations

from typing import Any

import pytest

from templates import TemplateEngine
from tests.templates.cases import Case
from tests.templates.cases import check
from tests.templates.cases import same
from tests.templates.cases import twins

P = "Event.Payload"

SPLIT = [
    Case(
        "split-space",
        "{{ 'a b  c'|split:' ' }}",
        "{{ 'a b  c'|split(' ') }}",
        '["a","b","","c"]',
    ),
    Case(
        "split-last",
        "{{ 'pongo version new'|split:\" \"|last }}",
        "{{ 'pongo version new'|split(' ')|last }}",
        "new",
    ),
    Case(
        "split-first",
        "{{ 'pongo version new'|split:' '|first }}",
        "{{ 'pongo version new'|split(' ')|first }}",
        "pongo",
    ),
    Case(
        "split-empty-separator",
        "{{ 'abc'|split:'' }}",
        "{{ 'abc'|split('') }}",
        '["a","b","c"]',
    ),
    Case("split-empty-string", "{{ ''|split:',' }}", "{{ ''|split(',') }}", '[""]'),
    Case("split-missing", "{{ nope|split:',' }}", "{{ nope|split(',') }}", '[""]'),
    same("split-default-whitespace", "{{ ' a  b '|split }}", '["a","b"]'),
    Case(
        "split-join",
        "{{ 'a,b'|split:','|join:'+' }}",
        "{{ 'a,b'|split(',')|join('+') }}",
        "a+b",
    ),
]

INTEGER_FLOAT = [
    Case(
        "integer-zero-compares",
        f"{{{{ {P}.count|integer == 3 }}}}",
        f"{{{{ {P}.count|integer == 3 }}}}",
        "True",
    ),
    same("integer-truncates-float", "{{ 3.9|integer }}", "3"),
    same("integer-negative-truncates-to-zero", "{{ -3.9|integer }}", "-3"),
    same("integer-parses-string", "{{ '42'|integer }}", "42"),
    same("integer-parses-float-string", "{{ '4.7'|integer }}", "4"),
    same("integer-parses-exponent", "{{ '1e3'|integer }}", "1000"),
    same(
        "integer-big-string-is-exact",
        "{{ '123456789012345678901'|integer }}",
        "123456789012345678901",
    ),
    same("integer-garbage-is-zero", "{{ 'abc'|integer }}", "0"),
    same("integer-padded-string-is-zero", "{{ ' 3'|integer }}", "0"),
    same("integer-missing-is-zero", "{{ nope|integer }}", "0"),
    same("integer-bool-is-zero", "{{ true|integer }}", "0"),
    same("integer-inf-is-zero", "{{ 'inf'|integer }}", "0"),
    same("float-from-int", "{{ 3|float }}", "3"),
    same("float-from-string", "{{ '2.5'|float }}", "2.5"),
    same("float-garbage-is-zero", "{{ 'x'|float }}", "0"),
    same("float-jinja-default", "{{ 'x'|float(1.5) }}", "1.5"),
    Case(
        "float-compare-int",
        f"{{{{ {P}.count|float == 3 }}}}",
        f"{{{{ {P}.count|float == 3 }}}}",
        "True",
    ),
    same("float-overflow-string-is-zero", "{{ '1e999'|float }}", "0"),
    same("float-nan-string", "{{ 'NaN'|float }}", "NaN"),
]

SLICE = [
    Case(
        "slice-from",
        "{{ m|slice:'5:'}}",
        "{{ m|slice('5:') }}",
        "uk-bank-holidays",
        context={"m": "flyteuk-bank-holidays"},
    ),
    Case("slice-to", "{{ 'abcdef'|slice:':3' }}", "{{ 'abcdef'|slice(':3') }}", "abc"),
    Case(
        "slice-both", "{{ 'abcdef'|slice:'1:3' }}", "{{ 'abcdef'|slice('1:3') }}", "bc"
    ),
    Case(
        "slice-whole", "{{ 'abcdef'|slice:':' }}", "{{ 'abcdef'|slice(':') }}", "abcdef"
    ),
    Case("slice-zero-from", "{{ 'abc'|slice:'0:' }}", "{{ 'abc'|slice('0:') }}", "abc"),
    Case("slice-clamps", "{{ 'abc'|slice:'2:99' }}", "{{ 'abc'|slice('2:99') }}", "c"),
    Case("slice-past-end", "{{ 'abc'|slice:'5:' }}", "{{ 'abc'|slice('5:') }}", ""),
    Case(
        "slice-negative",
        "{{ 'abcdef'|slice:'-2:' }}",
        "{{ 'abcdef'|slice('-2:') }}",
        "ef",
    ),
    Case(
        "slice-list",
        f"{{{{ {P}.commits|slice:'1:2' }}}}",
        f"{{{{ {P}.commits|slice('1:2') }}}}",
        '[{"commitId":2345}]',
    ),
    Case("slice-runes", "{{ 'ʘ‿ʘx'|slice:'1:3' }}", "{{ 'ʘ‿ʘx'|slice('1:3') }}", "‿ʘ"),
    Case("slice-not-sliceable", "{{ 5|slice:'1:' }}", "{{ 5|slice('1:') }}", "5"),
    Case(
        "slice-bad-spec",
        "{{ 'abc'|slice:'1' }}",
        "{{ 'abc'|slice('1') }}",
        error="'from:to'",
    ),
    same("slice-jinja-columns", "{{ [1,2,3,4]|slice(2)|list }}", "[[1,2],[3,4]]"),
]

FIRST_LAST_LENGTH = [
    Case("first-list", f"{{{{ {P}.items|first }}}}", f"{{{{ {P}.items|first }}}}", "a"),
    same("first-string", "{{ 'xyz'|first }}", "x"),
    same("first-empty", "{{ []|first }}", ""),
    same("first-missing", "{{ nope|first }}", ""),
    same("first-number", "{{ 5|first }}", ""),
    same("last-list", "{{ [1, 2, 3]|last }}", "3"),
    same("last-string", "{{ 'xyz'|last }}", "z"),
    same("last-empty", "{{ ''|last }}", ""),
    same("length-list", "{{ Event.Payload.commits|length }}", "3"),
    same("length-string-runes", "{{ 'ʘ‿ʘ'|length }}", "3"),
    same("length-map", "{{ Context|length }}", "2"),
    same("length-missing", "{{ nope|length }}", "0"),
    same("length-number", "{{ 5|length }}", "0"),
    same("count-alias", "{{ 'abc'|count }}", "3"),
    Case("length_is", "{{ 'abc'|length_is:3 }}", "{{ 'abc'|length_is(3) }}", "True"),
]

DEFAULTS = [
    Case("default-missing", "{{ nope|default:'x' }}", "{{ nope|default('x') }}", "x"),
    Case(
        "default-null",
        f"{{{{ {P}.nothing|default:'x' }}}}",
        f"{{{{ {P}.nothing|default('x') }}}}",
        "x",
    ),
    Case(
        "default-present",
        f"{{{{ {P}.status|default:'x' }}}}",
        f"{{{{ {P}.status|default('x') }}}}",
        "success",
    ),
    Case(
        "default-empty-string",
        f"{{{{ {P}.empty|default:'x' }}}}",
        f"{{{{ {P}.empty|default('x', true) }}}}",
        "x",
    ),
    Case("default-zero", "{{ 0|default:'x' }}", "{{ 0|default('x', true) }}", "x"),
    same("default-jinja-keeps-falsy", "{{ ''|default('x') }}", ""),
    same("d-alias", "{{ nope|d('y') }}", "y"),
    Case(
        "default_if_none-null",
        "{{ n|default_if_none:'x' }}",
        "{{ n|default_if_none('x') }}",
        "x",
        context={"n": None},
    ),
    Case(
        "default_if_none-empty",
        "{{ ''|default_if_none:'x' }}",
        "{{ ''|default_if_none('x') }}",
        "",
    ),
]

TEXT = [
    Case(
        "join-list",
        "{{ ['a', 1, 2.0]|join:', ' }}",
        "{{ ['a', 1, 2.0]|join(', ') }}",
        "a, 1, 2",
    ),
    Case("join-string-chars", "{{ 'abc'|join:'-' }}", "{{ 'abc'|join('-') }}", "a-b-c"),
    same("join-no-separator", "{{ ['a', 'b']|join }}", "ab"),
    same(
        "join-attribute",
        "{{ Event.Payload.commits|join(',', attribute='commitId') }}",
        "1234,2345,3456",
    ),
    same("join-missing", "{{ nope|join(',') }}", ""),
    same("upper", '{{ "flyte"|upper }}', "FLYTE"),
    same("upper-null", f"{{{{ {P}.nothing|upper }}}}", ""),
    same("lower", "{{ 'FlYtE'|lower }}", "flyte"),
    same("title", "{{ 'hello wORLD'|title }}", "Hello World"),
    same("capfirst", "{{ 'hello wORLD'|capfirst }}", "Hello wORLD"),
    same("capfirst-empty", "{{ ''|capfirst }}", ""),
    same("capitalize", "{{ 'hello wORLD'|capitalize }}", "Hello world"),
    Case(
        "truncatechars",
        "{{ 'abcdefgh'|truncatechars:5 }}",
        "{{ 'abcdefgh'|truncatechars(5) }}",
        "ab...",
    ),
    Case(
        "truncatechars-short",
        "{{ 'abc'|truncatechars:5 }}",
        "{{ 'abc'|truncatechars(5) }}",
        "abc",
    ),
    Case(
        "truncatechars-tiny",
        "{{ 'abcdef'|truncatechars:2 }}",
        "{{ 'abcdef'|truncatechars(2) }}",
        "ab",
    ),
    Case(
        "truncatewords",
        "{{ 'a b c d'|truncatewords:2 }}",
        "{{ 'a b c d'|truncatewords(2) }}",
        "a b ...",
    ),
    Case(
        "truncatewords-zero",
        "{{ 'a b'|truncatewords:0 }}",
        "{{ 'a b'|truncatewords(0) }}",
        "",
    ),
    same("wordcount", "{{ ' one two\tthree\n'|wordcount }}", "3"),
    Case("yesno-true", "{{ true|yesno }}", "{{ true|yesno }}", "yes"),
    Case("yesno-custom", "{{ 0|yesno:'on,off' }}", "{{ 0|yesno('on,off') }}", "off"),
    Case("yesno-maybe", "{{ nope|yesno:'y,n,?' }}", "{{ nope|yesno('y,n,?') }}", "?"),
    Case("yesno-bad", "{{ 1|yesno:'y' }}", "{{ 1|yesno('y') }}", error="2 or 3"),
    Case("cut", "{{ 'a b c'|cut:' ' }}", "{{ 'a b c'|cut(' ') }}", "abc"),
    Case("add-numbers", "{{ 1|add:2 }}", "{{ 1|add(2) }}", "3"),
    Case("add-float", "{{ 1|add:2.5 }}", "{{ 1|add(2.5) }}", "3.5"),
    Case("add-strings", "{{ 'a'|add:'b' }}", "{{ 'a'|add('b') }}", "ab"),
    Case("add-mixed", "{{ 'a'|add:1 }}", "{{ 'a'|add(1) }}", "a1"),
    same(
        "addslashes", "{{ s|addslashes }}", "a\\'b\\\"c\\\\", context={"s": "a'b\"c\\"}
    ),
    Case("center-odd", "[{{ 'ab'|center:5 }}]", "[{{ 'ab'|center(5) }}]", "[  ab ]"),
    Case("ljust", "[{{ 'ab'|ljust:4 }}]", "[{{ 'ab'|ljust(4) }}]", "[ab  ]"),
    Case("rjust", "[{{ 'ab'|rjust:4 }}]", "[{{ 'ab'|rjust(4) }}]", "[  ab]"),
    Case("divisibleby", "{{ 9|divisibleby:3 }}", "{{ 9|divisibleby(3) }}", "True"),
    Case(
        "divisibleby-zero", "{{ 9|divisibleby:0 }}", "{{ 9|divisibleby(0) }}", "False"
    ),
    same("escape", "{{ '<a href=\"x\">'|escape }}", "&lt;a href=&#34;x&#34;&gt;"),
    same("safe-is-a-no-op", "{{ '<b>'|safe }}", "<b>"),
    same("no-autoescape", "{{ s }}", "<b>&</b>", context={"s": "<b>&</b>"}),
    same("floatformat-default", "{{ 34.23234|floatformat }}", "34.2"),
    same("floatformat-integral", "{{ 34.0|floatformat }}", "34"),
    Case(
        "floatformat-places",
        "{{ 34.2|floatformat:3 }}",
        "{{ 34.2|floatformat(3) }}",
        "34.200",
    ),
    Case(
        "floatformat-negative",
        "{{ 34.0|floatformat:-3 }}",
        "{{ 34.0|floatformat(-3) }}",
        "34",
    ),
    same("linebreaksbr", "{{ 'a\nb'|linebreaksbr }}", "a<br />b"),
    same("make_list", "{{ 'ab'|make_list }}", '["a","b"]'),
    same("pluralize", "{{ 2|pluralize }}|{{ 1|pluralize }}", "s|"),
    Case(
        "pluralize-custom",
        "{{ 2|pluralize:'y,ies' }}",
        "{{ 2|pluralize('y,ies') }}",
        "ies",
    ),
    same("pluralize-non-number", "{{ 'x'|pluralize }}", error="only work on numbers"),
    same("random-single", "{{ ['only']|random }}", "only"),
    same("random-empty", "{{ []|random }}", "[]"),
    same("striptags", "{{ ' <b>bold</b> text '|striptags }}", "bold text"),
    same("urlencode", "{{ 'a b/c&d~'|urlencode }}", "a+b%2Fc%26d~"),
    same("urlencode-map", "{{ {'a': 'x y', 'b': 1}|urlencode }}", "a=x+y&b=1"),
]

JINJA_BUILTINS = [
    same("abs", "{{ -3|abs }}", "3"),
    same("attr", "{{ 'abc'|attr('upper') is callable }}", "True"),
    same("batch", "{{ [1,2,3]|batch(2)|list }}", "[[1,2],[3]]"),
    same("dictsort", "{{ {'b': 1, 'a': 2}|dictsort }}", '[["a",2],["b",1]]'),
    same("filesizeformat", "{{ 1000000|filesizeformat }}", "1.0 MB"),
    same("format", "{{ '%s-%03d'|format('x', 7) }}", "x-007"),
    same("groupby", "{{ [{'k': 1}, {'k': 1}]|groupby('k')|length }}", "1"),
    same("indent", "{{ 'a\nb'|indent(2) }}", "a\n  b"),
    same("int", "{{ '12'|int + 1 }}", "13"),
    same("items", "{{ {'a': 1}|items|list }}", '[["a",1]]'),
    same("list", "{{ 'ab'|list }}", '["a","b"]'),
    same(
        "map",
        "{{ Event.Payload.commits|map(attribute='commitId')|list }}",
        "[1234,2345,3456]",
    ),
    same("max-min", "{{ [3, 1, 2]|max }}{{ [3, 1, 2]|min }}", "31"),
    same("reject", "{{ [1, 2, 3]|reject('odd')|list }}", "[2]"),
    same("selectattr", "{{ [{'a': 1}, {'a': 0}]|selectattr('a')|list }}", '[{"a":1}]'),
    same("replace", "{{ 'aXbX'|replace('X', '-') }}", "a-b-"),
    same("replace-count", "{{ 'aXbX'|replace('X', '-', 1) }}", "a-bX"),
    same("reverse", "{{ 'abc'|reverse }}", "cba"),
    same("round", "{{ 2.567|round(2) }}", "2.57"),
    same("sort", "{{ [3, 1, 2]|sort }}", "[1,2,3]"),
    same("string", "{{ 3.0|string }}", "3"),
    same("sum", "{{ [1, 2, 3.5]|sum }}", "6.5"),
    same("sum-strings-refused", "{{ ['a', 'b']|sum }}", error="can only add numbers"),
    same("tojson", "{{ {'a': [1, 2.0, none, 'x']}|tojson }}", '{"a":[1,2,null,"x"]}'),
    same("tojson-string", "{{ 'a\"b'|tojson }}", '"a\\"b"'),
    same("trim", "{{ '  x  '|trim }}", "x"),
    same("truncate", "{{ 'hello world foo'|truncate(9, leeway=0) }}", "hello..."),
    same("unique", "{{ [1, 1, 2]|unique|list }}", "[1,2]"),
    same("tests-lower", "{{ 'abc' is lower }}{{ 'ABC' is upper }}", "TrueTrue"),
    same("tests-defined", "{{ nope is defined }}{{ Event is mapping }}", "FalseTrue"),
    same(
        "loopcontrols",
        "{% for i in [1,2,3] %}{% if i == 2 %}{% break %}{% endif %}{{ i }}"
        "{% endfor %}",
        "1",
    ),
]


@pytest.mark.parametrize(
    ("case", "syntax"),
    twins(
        SPLIT
        + INTEGER_FLOAT
        + SLICE
        + FIRST_LAST_LENGTH
        + DEFAULTS
        + TEXT
        + JINJA_BUILTINS
    ),
)
def test_builtin_filter(
    engine: TemplateEngine, context: dict[str, Any], case: Case, syntax: str
) -> None:
    check(engine, case, syntax, context)


def test_unknown_filter_is_a_syntax_error(engine: TemplateEngine) -> None:
    for source in ("{{ x|wordwrap(3) }}", "{{ x|pprint }}", "{{ x|urlize }}"):
        with pytest.raises(Exception, match="No filter named"):
            engine.check_syntax(source)
