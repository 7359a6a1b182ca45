"""Upstream's template tests and real flow templates: pongo2 and Jinja2 twins agree."""

from __future__ import annotations

from typing import Any

import pytest

from templates import TemplateEngine
from templates import TemplateError
from tests.templates.cases import Case
from tests.templates.cases import check
from tests.templates.cases import same
from tests.templates.cases import twins

# TestResolveShouldResolveValidPongoTemplates (template/template_test.go), verbatim in
# the pongo2 column.
GO_TABLE = [
    same("plain-text", "some plain text", "some plain text"),
    same(
        "dot-index",
        "Build {{Event.Payload.status}}, first commit was "
        "{{Event.Payload.commits.0.commitId}}",
        "Build success, first commit was 1234",
    ),
    Case(
        "key-filter",
        "Build was a success: "
        "{{ Event.Payload.statusDetail|key:Event.Payload.status }}",
        "Build was a success: "
        "{{ Event.Payload.statusDetail|key(Event.Payload.status) }}",
        "Build was a success: True",
    ),
    same("missing-chain", "{{Event.Payload.non.existent.field}}", ""),
    same("context", "{{ Context.hipchat_room }}", "123"),
    same(
        "payload-and-context",
        "{{ Event.Payload.status }} and {{ Context.status }}",
        "success and pending",
    ),
    same("upper", '{{ "flyte"|upper }}', "FLYTE"),
    same(
        "if-else",
        '{% if Event.Payload.metadata.rb == "1" %}'
        "{{ Event.Payload.metadata._PreviousLabel }}"
        "{% else %}{{ Event.Payload.label }}{% endif %}",
        "CSVC.59.0.29",
    ),
    same(
        "for-loop",
        "{% for commit in Event.Payload.commits %}-{{ commit.commitId }}{% endfor %}",
        "-1234-2345-3456",
    ),
    same(
        "kvp-set",
        "{% set values = Event.Payload.keyValuePairs|kvp %}"
        "{{ values.ENV }} {{ values.CMP }} {{ values.LBL }}",
        "staging flyte 1.2.3",
    ),
    Case(
        "kvp-key",
        '{{ Event.Payload.keyValuePairs|kvp|key:"bn" }}',
        '{{ Event.Payload.keyValuePairs|kvp|key("bn") }}',
        "100",
    ),
    Case(
        "match",
        '{{ Event.Payload.label|match:"^CSVC.*$" }}',
        "{{ Event.Payload.label is match('^CSVC.*$') }}",
        "True",
    ),
    Case(
        "split-index",
        '{{ "pongo version new"|split:" "|index:1 }}',
        "{{ 'pongo version new'.split(' ')|index(1) }}",
        "version",
    ),
    Case(
        "split-last",
        '{{ "pongo version new"|split:" "|last }}',
        "{{ 'pongo version new'.split(' ')|last }}",
        "new",
    ),
    Case(
        "split-first",
        "{{ \"pongo version new\"|split:' '|first }}",
        "{{ ('pongo version new'|split(' '))[0] }}",
        "pongo",
    ),
    Case(
        "extract",
        "{{ \"pongo version new\"|extractMatch:'\\\\w+ \\\\w+ (\\\\w+)' }}",
        "{{ 'pongo version new'|extractMatch('\\\\w+ \\\\w+ (\\\\w+)') }}",
        "new",
    ),
    same(
        "event-and-pack",
        "Event Name {{Event.Name}}, Pack name {{Event.Pack.Name}}, "
        "Pack label {{Event.Pack.Labels.network}}",
        "Event Name InventoryUpdateSuccess, Pack name Flyte, Pack label lab",
    ),
    same("equality", "{{Event.Name == 'InventoryUpdateSuccess'}}", "True"),
    Case(
        "context-key",
        '{{ Context|key:"status" }}',
        "{{ Context['status'] }}",
        "pending",
    ),
    same("base64Encode", "{{ base64Encode(Event.Payload.toBase64) }}", "ypjigL_KmA"),
    same("base64Decode", "{{ base64Decode(Event.Payload.fromBase64) }}", "ʘ‿ʘ"),
    Case(
        "matchesCron",
        '{{ Event.Payload.timestamp | matchesCron: "18 23 * * *" }}',
        "{{ Event.Payload.timestamp|matchesCron('18 23 * * *') }}",
        "True",
    ),
]

# Templates from upstream's quickstart flow, the Slack pack and Postman
# (docs/upstream.md#flow-examples).
SLACK = {
    "message": "flyte  uk-bank-holidays",
    "threadTimestamp": "",
    "timestamp": "1518650289.000100",
    "channelId": "C123",
    "user": {"id": "U42"},
}
THREAD_OR_TIMESTAMP = (
    "{% if Event.Payload.threadTimestamp != '' %}{{ Event.Payload.threadTimestamp }}"
    "{% else %}{{ Event.Payload.timestamp }}{% endif %}"
)
SHELL = {"exit_code": 0, "stdout": "25 December\n26 December", "stderr": ""}
FLOWS = [
    Case(
        "quickstart-criteria",
        "{{ Event.Payload.message|match:'^flyte(\\\\s+)uk-bank-holidays$' }}",
        "{{ Event.Payload.message is match('^flyte(\\\\s+)uk-bank-holidays$') }}",
        "True",
        context={"Event": {"Payload": SLACK}},
    ),
    Case(
        "quickstart-criteria-no-match",
        "{{ Event.Payload.message|match:'^flyte(\\\\s+)uk-bank-holidays$' }}",
        "{{ Event.Payload.message is match('^flyte(\\\\s+)uk-bank-holidays$') }}",
        "False",
        context={"Event": {"Payload": {**SLACK, "message": "flyte help"}}},
    ),
    Case(
        "quickstart-exit-code",
        "{{ Event.Payload.exit_code|integer == 0 }}",
        "{{ Event.Payload.exit_code|int == 0 }}",
        "True",
        context={"Event": {"Payload": SHELL}},
    ),
    Case(
        "quickstart-exit-code-float",
        "{{ Event.Payload.exit_code|integer == 0 }}",
        "{{ Event.Payload.exit_code == 0 }}",
        "True",
        context={"Event": {"Payload": {"exit_code": 0.0}}},
    ),
    same(
        "quickstart-thread-or-timestamp",
        THREAD_OR_TIMESTAMP,
        "1518650289.000100",
        context={"Event": {"Payload": SLACK}},
    ),
    same(
        "quickstart-in-thread",
        THREAD_OR_TIMESTAMP,
        "1518650000.000001",
        context={
            "Event": {"Payload": {**SLACK, "threadTimestamp": "1518650000.000001"}}
        },
    ),
    same(
        "quickstart-message",
        "Hey <@{{ Context.Requestor }}>! Next holidays:\n{{Event.Payload.stdout}}",
        "Hey <@U42>! Next holidays:\n25 December\n26 December",
        context={"Context": {"Requestor": "U42"}, "Event": {"Payload": SHELL}},
    ),
    Case(
        "slack-slice",
        "{{ Event.Payload.message | slice:'5:'}}",
        "{{ Event.Payload.message[5:] }}",
        "  uk-bank-holidays",
        context={"Event": {"Payload": SLACK}},
    ),
    Case(
        "slack-command-args",
        "{{ Event.Payload.message|slice:'6:'|removedupwhitespaces }}",
        "{{ Event.Payload.message[6:]|removedupwhitespaces }}",
        " uk-bank-holidays",
        context={"Event": {"Payload": SLACK}},
    ),
    Case(
        "and-or-not",
        "{{ Event.Pack.Name == 'Slack' && !(Event.Payload.user.id == 'bot') "
        "|| Event.Name == 'x' }}",
        "{{ Event.Pack.Name == 'Slack' and not (Event.Payload.user.id == 'bot') "
        "or Event.Name == 'x' }}",
        "True",
        context={"Event": {"Name": "Msg", "Pack": {"Name": "Slack"}, "Payload": SLACK}},
    ),
    same(
        "postman-label",
        "{{Event.Pack.Labels.env}}",
        "staging",
        context={"Event": {"Pack": {"Labels": {"env": "staging"}}}},
    ),
]


@pytest.mark.parametrize(("case", "syntax"), twins(GO_TABLE + FLOWS))
def test_upstream_template(
    engine: TemplateEngine, context: dict[str, Any], case: Case, syntax: str
) -> None:
    check(engine, case, syntax, context)


@pytest.mark.parametrize(("case", "syntax"), twins(FLOWS))
def test_pongo_and_jinja_twins_resolve_to_the_same_value(
    engine: TemplateEngine, case: Case, syntax: str
) -> None:
    pongo = engine.resolve({"v": [case.pongo]}, case.context)
    jinja = engine.resolve({"v": [case.jinja]}, case.context)
    assert pongo == jinja == {"v": [case.expected]}


def test_quickstart_step_end_to_end(engine: TemplateEngine) -> None:
    # Given the first step of the quickstart flow and a Slack message event
    event = {"Event": {"Name": "ReceivedMessage", "Payload": SLACK}, "Context": {}}
    step_context = {
        "Tts": "{% if Event.Payload.threadTimestamp != '' %}"
        "{{ Event.Payload.threadTimestamp }}{% else %}{{ Event.Payload.timestamp }}"
        "{% endif %}",
        "ChannelID": "{{ Event.Payload.channelId }}",
        "Requestor": "{{ Event.Payload.user.id }}",
    }
    criteria = "{{ Event.Payload.message|match:'^flyte(\\\\s+)uk-bank-holidays$' }}"
    # When the engine renders it
    ctx = engine.resolve(step_context, event)
    fired = engine.evaluate_criteria(criteria, {**event, "Context": ctx})
    # Then the step fires with the expected context
    assert fired is True
    assert ctx == {"Tts": "1518650289.000100", "ChannelID": "C123", "Requestor": "U42"}
    # And the second step renders the command input from the Shell output
    second = {"Event": {"Name": "Output", "Payload": SHELL}, "Context": ctx}
    assert engine.evaluate_criteria(
        "{{ Event.Payload.exit_code|integer == 0 }}", second
    )
    command_input = {
        "channelId": "{{ Context.ChannelID }}",
        "threadTimestamp": "{{ Context.Tts }}",
        "message": "Hey <@{{ Context.Requestor }}>! {{Event.Payload.stdout}}",
    }
    assert engine.resolve(command_input, second) == {
        "channelId": "C123",
        "threadTimestamp": "1518650289.000100",
        "message": "Hey <@U42>! 25 December\n26 December",
    }


def test_invalid_template_is_an_error(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateError):
        engine.resolve("{{ nonExistingFunction| }}", {})


def test_int_and_float_compare_numerically_unlike_upstream(
    engine: TemplateEngine,
) -> None:
    # Upstream needed |integer because Go's float64 0 != int 0; we compare numbers.
    assert engine.evaluate_criteria("{{ n == 0 }}", {"n": 0.0})
    assert engine.render("{{ n }}", {"n": 3.0}) == "3"
