"""Upstream's static functions (template globals), in pongo2 and Jinja2 syntax."""

from __future__ import annotations

import re
from typing import Any

import pytest

from templates import TemplateEngine
from templates import TemplateError
from templates import make_datastore_function
from tests.templates.cases import Case
from tests.templates.cases import check
from tests.templates.cases import same
from tests.templates.cases import twins
from tests.templates.conftest import FixedRandom

BASE64 = [
    same(
        "base64Encode-payload",
        "{{ base64Encode(Event.Payload.toBase64) }}",
        "ypjigL_KmA",
    ),
    same("base64Decode-payload", "{{ base64Decode(Event.Payload.fromBase64) }}", "ʘ‿ʘ"),
    same("base64Encode-url-alphabet", "{{ base64Encode('???>>>') }}", "Pz8_Pj4-"),
    same("base64Encode-empty", "{{ base64Encode('') }}", ""),
    same("base64Encode-number", "{{ base64Encode(3) }}", "Mw"),
    Case(
        "base64-round-trip-filtered",
        "{{ base64Decode(base64Encode(Event.Name|lower)) }}",
        "{{ base64Decode(base64Encode(Event.Name|lower)) }}",
        "inventoryupdatesuccess",
    ),
    same(
        "base64Decode-padded-errs", "{{ base64Decode('Mw==') }}", error="illegal base64"
    ),
    same(
        "base64Decode-std-alphabet-errs",
        "{{ base64Decode('Pz8/Pj4+') }}",
        error="illegal",
    ),
    same(
        "base64Decode-bad-length-errs", "{{ base64Decode('abcde') }}", error="illegal"
    ),
    same("base64Decode-invalid-utf8", "{{ base64Decode('_w') }}", "\ufffd"),
]

JSON = [
    same(
        "unmarshalJson",
        "it is {{ unmarshalJson(j).foo }}",
        "it is bar",
        context={"j": '{"foo":"bar"}'},
    ),
    same(
        "unmarshalJson-invalid",
        "{{ unmarshalJson(j).foo }}",
        error="invalid JSON",
        context={"j": '{"foo":}'},
    ),
    same("unmarshalJson-array-errs", "{{ unmarshalJson('[1]') }}", error="into a map"),
    same("unmarshalJson-nan-errs", "{{ unmarshalJson('{\"a\": NaN}') }}", error="NaN"),
    Case(
        "unmarshalJson-then-filter",
        "{{ unmarshalJson(j).n|integer == 3 && unmarshalJson(j).s|match:'^o' }}",
        "{{ unmarshalJson(j).n|integer == 3 and unmarshalJson(j).s is match('^o') }}",
        "True",
        context={"j": '{"n": 3.0, "s": "ok"}'},
    ),
]

RANDOM = [
    same(
        "randomAlpha-negative",
        "{{ randomAlpha(-5) }}",
        error="word length must be non-negative$",
    ),
    same("randomAlpha-zero", "{{ randomAlpha(0) }}", ""),
    same("randomInt-zero-errs", "{{ randomInt(0) }}", error="invalid argument to Intn"),
    same("randomInt-not-a-number", "{{ randomInt('x') }}", error="expected an integer"),
    same("randomAlpha-huge-refused", "{{ randomAlpha(10**9) }}", error="limit"),
]

TEMPLATE = [
    same(
        "template-renders-with-given-context",
        "{{ template(tpl, ctx) }}",
        '#!/bin/sh\necho "Hello Flyte">>{}',
        context={
            "ctx": {"team": {"name": "Flyte"}},
            "tpl": '#!/bin/sh\necho "Hello {{ team.name }}">>{}',
        },
    ),
    Case(
        "template-inner-pongo-syntax",
        "{{ template(\"{{ n|integer == 3 && s|match:'^a' }}\", ctx) }}",
        "{{ template(\"{{ n|integer == 3 and s is match('^a') }}\", ctx) }}",
        "True",
        context={"ctx": {"n": "3", "s": "abc"}},
    ),
    same(
        "template-sees-only-its-context",
        "{{ template('[{{ Event.Name }}]', {}) }}",
        "[]",
    ),
    same(
        "template-has-static-functions",
        "{{ template('{{ base64Encode(x) }}', {'x': '?'}) }}",
        "Pw",
    ),
    same(
        "template-context-must-be-map",
        "{{ template('x', 'y') }}",
        error="context must be a map",
    ),
    same(
        "template-inner-syntax-error",
        "{{ template('{{ x', {}) }}",
        error="syntax error on line 1",
    ),
]


@pytest.mark.parametrize(("case", "syntax"), twins(BASE64 + JSON + RANDOM + TEMPLATE))
def test_static_function(
    engine: TemplateEngine, context: dict[str, Any], case: Case, syntax: str
) -> None:
    check(engine, case, syntax, context)


def test_random_int_uses_the_injected_random_source() -> None:
    rng = FixedRandom(42)
    engine = TemplateEngine(rng=rng)
    assert engine.render("{{ randomInt(100) }}", {}) == "42"
    assert rng.bounds == [100]


def test_random_int_accepts_integral_floats_from_json(engine: TemplateEngine) -> None:
    assert int(engine.render("{{ randomInt(n) }}", {"n": 1.0})) == 0


def test_random_alpha_is_letters_of_requested_size(engine: TemplateEngine) -> None:
    value = engine.render("{{ randomAlpha(10) }}", {})
    assert re.fullmatch("[A-Za-z]{10}", value)


def test_template_inner_error_is_reported_against_the_outer_source(
    engine: TemplateEngine,
) -> None:
    source = '{{ template("{{ randomAlpha(-4) }}", ctx) }}'
    with pytest.raises(TemplateError) as raised:
        engine.render(source, {"ctx": {}})
    assert str(raised.value) == (
        "error while evaluating expression: "
        "'{{ template(\"{{ randomAlpha(-4) }}\", ctx) }}': "
        "word length must be non-negative"
    )


def test_static_functions_override_user_keys(engine: TemplateEngine) -> None:
    rendered = engine.render("{{ base64Encode('?') }}", {"base64Encode": "user"})
    assert rendered == "Pw"


def _store(items: dict[str, tuple[str, str]]) -> Any:
    return make_datastore_function(items.get)


def test_datastore_json_item_is_a_map(engine: TemplateEngine) -> None:
    datastore = _store(
        {"product_teams": ('{"flyte": "flyte@flyte.com"}', "application/json")}
    )
    source = '{email: "{{ datastore("product_teams").flyte }}"}'
    rendered = engine.render(source, {}, functions={"datastore": datastore})
    assert rendered == '{email: "flyte@flyte.com"}'


def test_datastore_json_item_with_charset(engine: TemplateEngine) -> None:
    datastore = _store({"k": ('{"a": 1}', "text/json; charset=utf-8")})
    assert engine.render("{{ datastore('k').a }}", {}, {"datastore": datastore}) == "1"


def test_datastore_text_item_is_raw_text(engine: TemplateEngine) -> None:
    datastore = _store({"k": ('{"a": 1}', "text/plain")})
    assert (
        engine.render("{{ datastore('k') }}", {}, {"datastore": datastore})
        == '{"a": 1}'
    )


def test_datastore_bytes_item(engine: TemplateEngine) -> None:
    datastore = make_datastore_function(
        lambda key: (b"raw", "application/octet-stream")
    )
    assert engine.render("{{ datastore('k') }}", {}, {"datastore": datastore}) == "raw"


@pytest.mark.parametrize("body", ["[1, 2]", "3", "nope"])
def test_datastore_json_item_that_is_not_an_object_errs(
    engine: TemplateEngine, body: str
) -> None:
    datastore = _store({"k": (body, "application/json")})
    with pytest.raises(TemplateError, match="cannot unmarshal datastore item key=k"):
        engine.render("{{ datastore('k') }}", {}, {"datastore": datastore})


def test_missing_datastore_item_is_a_template_error(engine: TemplateEngine) -> None:
    datastore = _store({})
    with pytest.raises(TemplateError) as raised:
        engine.render("{{ datastore('nope') }}", {}, {"datastore": datastore})
    assert str(raised.value).endswith("cannot find datastore item key=nope: not found")
    assert isinstance(raised.value.__cause__, LookupError)


def test_datastore_without_a_lookup_is_a_template_error(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateError, match="no datastore"):
        engine.render("{{ datastore('k') }}", {})


def test_datastore_is_visible_inside_template_function(engine: TemplateEngine) -> None:
    datastore = _store({"k": ("v", "text/plain")})
    source = "{{ template(\"{{ datastore('k') }}\", {}) }}"
    assert engine.render(source, {}, {"datastore": datastore}) == "v"


def test_caller_exceptions_listed_in_propagate_escape_unwrapped() -> None:
    class Outage(Exception):
        pass

    def broken(key: str) -> Any:
        raise Outage("store down")

    engine = TemplateEngine(propagate=(Outage,))
    with pytest.raises(Outage):
        engine.render("{{ datastore('k') }}", {}, {"datastore": broken})


def test_caller_exceptions_become_template_errors_by_default(
    engine: TemplateEngine,
) -> None:
    def broken(key: str) -> Any:
        raise RuntimeError("Upss!!! Something went wrong.")

    with pytest.raises(TemplateError) as raised:
        engine.render("{{ panicFunc('x') }}", {}, {"panicFunc": broken})
    assert str(raised.value) == (
        "error while evaluating expression: '{{ panicFunc('x') }}': "
        "Upss!!! Something went wrong."
    )
