"""Upstream's custom filters (template/pongo.go), each in pongo2 and Jinja2 syntax."""

from __future__ import annotations

from typing import Any

import pytest

from templates import TemplateEngine
from tests.templates.cases import Case
from tests.templates.cases import check
from tests.templates.cases import same
from tests.templates.cases import twins

KEY = [
    Case(
        "key-by-variable",
        "{{ Event.Payload.statusDetail|key:Event.Payload.status }}",
        "{{ Event.Payload.statusDetail|key(Event.Payload.status) }}",
        "True",
    ),
    Case(
        "key-literal",
        '{{ Context|key:"status" }}',
        '{{ Context|key("status") }}',
        "pending",
    ),
    Case("key-missing", '{{ Context|key:"nope" }}', '{{ Context|key("nope") }}', ""),
    Case(
        "key-number-becomes-string",
        "{{ m|key:1 }}",
        "{{ m|key(1) }}",
        "one",
        context={"m": {"1": "one"}},
    ),
    Case(
        "key-on-null",
        "{{ Event.Payload.nothing|key:'a' }}",
        "{{ Event.Payload.nothing|key('a') }}",
        "",
    ),
    Case("key-on-undefined", "{{ nope|key:'a' }}", "{{ nope|key('a') }}", ""),
    Case(
        "key-on-non-map-errs",
        "{{ Event.Payload.items|key:'a' }}",
        "{{ Event.Payload.items|key('a') }}",
        error="key: value must be a map, not list",
    ),
    Case(
        "key-on-string-errs",
        "{{ 'abc'|key:'a' }}",
        "{{ 'abc'|key('a') }}",
        error="not str",
    ),
    Case(
        "key-after-kvp",
        '{{ Event.Payload.keyValuePairs|kvp|key:"bn" }}',
        '{{ Event.Payload.keyValuePairs|kvp|key("bn") }}',
        "100",
    ),
]

MATCH = [
    Case(
        "match-anchored",
        "{{ \"foobar\" | match:'^[fo]+bar.*$' }}",
        "{{ 'foobar'|match('^[fo]+bar.*$') }}",
        "True",
    ),
    Case(
        "match-case-sensitive",
        "{{ \"foobar\" | match:'^Foobar$' }}",
        "{{ 'foobar'|match('^Foobar$') }}",
        "False",
    ),
    Case(
        "match-is-a-search",
        "{{ 'xx foo yy'|match:'foo' }}",
        "{{ 'xx foo yy'|match('foo') }}",
        "True",
    ),
    Case(
        "match-invalid-regex-is-false",
        "{{ 'a(b'|match:'(' }}",
        "{{ 'a(b'|match('(') }}",
        "False",
    ),
    Case(
        "match-on-number",
        "{{ Event.Payload.count|match:'^3$' }}",
        "{{ Event.Payload.count|match('^3$') }}",
        "True",
    ),
    Case("match-on-missing", "{{ nope|match:'^$' }}", "{{ nope|match('^$') }}", "True"),
    Case(
        "match-label",
        '{{ Event.Payload.label|match:"^CSVC.*$" }}',
        '{{ Event.Payload.label|match("^CSVC.*$") }}',
        "True",
    ),
    Case(
        "match-in-if",
        "{% if Event.Payload.label|match:'^CSVC'"
        " && Event.Name == 'InventoryUpdateSuccess' %}y{% endif %}",
        "{% if Event.Payload.label is match('^CSVC')"
        " and Event.Name == 'InventoryUpdateSuccess' %}y{% endif %}",
        "y",
    ),
    Case(
        "match-negated",
        "{{ !(Event.Payload.label|match:'^X') }}",
        "{{ Event.Payload.label is not match('^X') }}",
        "True",
    ),
    Case(
        "match-ascii-digit-class",
        r"{{ '٣'|match:'\\d' }}",
        r"{{ '٣' is match('\\d') }}",
        "False",
    ),
]

EXTRACT_MATCH = [
    Case(
        "extract-first-group",
        "{{ \"foo bar baz bay\" | extractMatch:'\\\\w+ \\\\w+ (\\\\w+) (\\\\w+)' }}",
        "{{ 'foo bar baz bay'|extractMatch('\\\\w+ \\\\w+ (\\\\w+) (\\\\w+)') }}",
        "baz",
    ),
    Case(
        "extract-no-match-returns-input",
        "{{ \"foo bar baz\" | extractMatch:'\\\\w+ \\\\w+ (\\\\d+)' }}",
        "{{ 'foo bar baz'|extractMatch('\\\\w+ \\\\w+ (\\\\d+)') }}",
        "foo bar baz",
    ),
    Case(
        "extract-no-group-returns-input",
        "{{ \"foo bar baz\" | extractMatch:'\\\\w+ \\\\w+ \\\\w+' }}",
        "{{ 'foo bar baz'|extractMatch('\\\\w+ \\\\w+ \\\\w+') }}",
        "foo bar baz",
    ),
    Case(
        "extract-hyphenated-word",
        "{{ \"the good, the bad, and the-ugly\"|extractMatch:'.* ([-a-zA-Z0-9_]+)' }}",
        "{{ 'the good, the bad, and the-ugly'|extractMatch('.* ([-a-zA-Z0-9_]+)') }}",
        "the-ugly",
    ),
    Case(
        "extract-trailing-punctuation",
        '{{ "How do you defeat a Quylthulg?"'
        "|extractMatch:'.* ([-a-zA-Z0-9_]+)\\\\W*' }}",
        "{{ 'How do you defeat a Quylthulg?'"
        "|extractMatch('.* ([-a-zA-Z0-9_]+)\\\\W*') }}",
        "Quylthulg",
    ),
    Case(
        "extract-anchored-miss",
        "{{ \"What is your name?\"|extractMatch:'.* (\\\\w+)$' }}",
        "{{ 'What is your name?'|extractMatch('.* (\\\\w+)$') }}",
        "What is your name?",
    ),
    Case(
        "extract-optional-group-empty",
        "{{ 'foo'|extractMatch:'(x)?foo' }}",
        "{{ 'foo'|extractMatch('(x)?foo') }}",
        "",
    ),
    Case(
        "extract-invalid-regex-errs",
        "{{ 'foo'|extractMatch:'(' }}",
        "{{ 'foo'|extractMatch('(') }}",
        error="invalid regular expression",
    ),
]

KVP = [
    Case(
        "kvp-set-and-read",
        "{% set values = Event.Payload.keyValuePairs|kvp %}"
        "{{ values.ENV }} {{ values.CMP }} {{ values.LBL }}",
        "{% set values = Event.Payload.keyValuePairs|kvp %}"
        "{{ values['ENV'] }} {{ values.CMP }} {{ values.LBL }}",
        "staging flyte 1.2.3",
    ),
    same(
        "kvp-only-exactly-one-equals",
        "{{ 'a=1,b=2=3,c,d = 4 '|kvp }}",
        '{"a":"1","d":"4"}',
    ),
    same("kvp-empty", "{{ ''|kvp }}", "{}"),
    same("kvp-last-wins", "{{ 'a=1,a=2'|kvp }}", '{"a":"2"}'),
    same("kvp-empty-key-and-value", "{{ '=,x='|kvp }}", '{"":"","x":""}'),
]

INDEX = [
    Case(
        "index-of-split",
        '{{ "pongo version new"|split:" "|index:1 }}',
        '{{ "pongo version new"|split(" ")|index(1) }}',
        "version",
    ),
    Case("index-string-char", "{{ 'héllo'|index:1 }}", "{{ 'héllo'|index(1) }}", "é"),
    Case(
        "index-string-out-of-range", "{{ 'abc'|index:3 }}", "{{ 'abc'|index(3) }}", ""
    ),
    Case(
        "index-list-out-of-range",
        "{{ Event.Payload.items|index:9 }}",
        "{{ Event.Payload.items|index(9) }}",
        "",
    ),
    Case(
        "index-negative-errs",
        "{{ 'abc'|index:-1 }}",
        "{{ 'abc'|index(-1) }}",
        error="negative index -1",
    ),
    Case(
        "index-negative-on-list-errs",
        "{{ Event.Payload.items|index:-1 }}",
        "{{ Event.Payload.items|index(-1) }}",
        error="negative index",
    ),
    Case("index-empty-list", "{{ []|index:-1 }}", "{{ []|index(-1) }}", ""),
    Case("index-on-map", "{{ Context|index:0 }}", "{{ Context|index(0) }}", ""),
    Case("index-on-number", "{{ 5|index:0 }}", "{{ 5|index(0) }}", ""),
    Case(
        "index-string-argument", "{{ 'abc'|index:'2' }}", "{{ 'abc'|index('2') }}", "c"
    ),
    Case(
        "index-item-is-map",
        "{{ (Event.Payload.commits|index:2).commitId }}",
        "{{ (Event.Payload.commits|index(2)).commitId }}",
        "3456",
    ),
]

WHITESPACE = [
    Case(
        "removedupwhitespaces-keeps-one-leading-space",
        "{{ s|removedupwhitespaces }}",
        "{{ s|removedupwhitespaces }}",
        " a b c",
        context={"s": "  a \t\n b   c \n "},
    ),
    Case(
        "removedupwhitespaces-nbsp-is-not-whitespace",
        "{{ s|removedupwhitespaces }}",
        "{{ s|removedupwhitespaces }}",
        "a \u00a0 b",
        context={"s": "a \u00a0  b"},
    ),
    same("removedupwhitespaces-empty", "{{ ''|removedupwhitespaces }}", ""),
    Case(
        "safecopypaste-replaces-nbsp",
        "{{ s|safecopypaste }}",
        "{{ s|safecopypaste }}",
        "a  b c",
        context={"s": "a\u00a0 b\u00a0c"},
    ),
    Case(
        "safecopypaste-then-removedupwhitespaces",
        "{{ s|safecopypaste|removedupwhitespaces }}",
        "{{ s|safecopypaste|removedupwhitespaces }}",
        "a b",
        context={"s": "a\u00a0\u00a0b"},
    ),
]

MATCHES_CRON = [
    Case(
        "matchesCron-due",
        '{{ "2018-02-14T23:18:09.0481031Z" | matchesCron: "18 23 * * *" }}',
        '{{ "2018-02-14T23:18:09.0481031Z"|matchesCron("18 23 * * *") }}',
        "True",
    ),
    Case(
        "matchesCron-from-payload",
        '{{ Event.Payload.timestamp | matchesCron: "18 23 * * *" }}',
        '{{ Event.Payload.timestamp|matchesCron("18 23 * * *") }}',
        "True",
    ),
    Case(
        "matchesCron-not-due",
        "{{ Event.Payload.timestamp|matchesCron:'19 23 * * *' }}",
        "{{ Event.Payload.timestamp|matchesCron('19 23 * * *') }}",
        "False",
    ),
    Case(
        "matchesCron-invalid-date",
        '{{ "not a date" | matchesCron: "18 23 * * *" }}',
        '{{ "not a date"|matchesCron("18 23 * * *") }}',
        error="invalid date: 'not a date'$",
    ),
    Case(
        "matchesCron-invalid-expression",
        '{{ "2018-02-14T23:18:09Z" | matchesCron: "not a cron expression" }}',
        '{{ "2018-02-14T23:18:09Z"|matchesCron("not a cron expression") }}',
        error="invalid cron expression 'not a cron expression'",
    ),
]


@pytest.mark.parametrize(
    ("case", "syntax"),
    twins(KEY + MATCH + EXTRACT_MATCH + KVP + INDEX + WHITESPACE + MATCHES_CRON),
)
def test_custom_filter(
    engine: TemplateEngine, context: dict[str, Any], case: Case, syntax: str
) -> None:
    check(engine, case, syntax, context)


def test_match_is_also_a_jinja_test(engine: TemplateEngine) -> None:
    source = "{% if msg is match('^deploy') %}go{% else %}stop{% endif %}"
    assert engine.render(source, {"msg": "deploy prod"}) == "go"
    assert engine.render(source, {"msg": "rollback"}) == "stop"


def test_kvp_trims_keys_and_values(engine: TemplateEngine) -> None:
    assert engine.resolve("{{ s|kvp }}", {"s": " a = 1 ,b= 2"}) == '{"a":"1","b":"2"}'
