"""Adversarial templates: server-side template injection payloads must fail cleanly.

In the spirit of jinja's own tests/test_security.py: every payload raises a
TemplateError (never renders internals, never hangs, never eats the memory), and the
process is healthy afterwards.
"""

from __future__ import annotations

import resource
import time
from typing import Any

import psutil
import pytest

from templates import TemplateEngine
from templates import TemplateError
from templates import TemplateLimitError
from templates import TemplateSecurityError
from templates.patterns import USES_RE2
from tests.timing import finishes_within

ESCAPES = [
    '{{ "".__class__.__mro__ }}',
    '{{ "".__class__.__mro__[1].__subclasses__() }}',
    "{{ ().__class__.__base__.__subclasses__() }}",
    "{{ x.__init__.__globals__ }}",
    "{{ Event.__init__.__globals__ }}",
    "{{ Event.get.__self__ }}",
    "{{ Event.Payload.items.__len__() }}",
    "{{ [].append(1) }}",
    "{{ {}.update(a=1) }}",
    "{{ Event.Payload.items.pop() }}",
    "{{ Event.Pack.Labels.clear() }}",
    '{{ "a{0.__class__}b".format(1) }}',
    "{{ '{a.__class__.__init__.__globals__}'.format_map({'a': Event}) }}",
    "{{ '{0.__class__}'.format(Event) }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ joiner.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'].popen('id').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ namespace.mro() }}",
    "{{ dict.mro() }}",
    "{{ dict.__subclasses__() }}",
    "{{ range.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__dict__ }}",
    "{{ self._TemplateReference__context.environment }}",
    "{{ request.application.__globals__.__builtins__.__import__('os') }}",
    "{{ config.__class__.__init__.__globals__['os'] }}",
    "{{ Event|attr('__class__') }}",
    "{{ ''|attr('__class__')|attr('__mro__') }}",
    "{{ Event|attr('\\x5f\\x5fclass\\x5f\\x5f') }}",
    "{{ Event['__class__'] }}",
    "{{ ''['__class__'] }}",
    "{{ [1]|map('attr', '__class__')|list }}",
    "{{ [Event]|map(attribute='__class__')|list }}",
    "{{ [Event, Context]|sort(attribute='__class__') }}",
    "{% for c in ''.__class__.__mro__ %}{{ c }}{% endfor %}",
    "{% for x in [1] %}{{ loop._iterator }}{% endfor %}",
    "{{ '%s' % ''.__class__ }}",
    "{{ '%s %s' % (1, x.__class__) }}",
    "{{ 'x'.translate({120: 'y'}) }}",
    "{{ template('{{ \"\".__class__ }}', {}) }}",
    "{% set f = ''.__class__ %}{{ f }}",
    "{% macro m() %}{{ m.__globals__ }}{% endmacro %}{{ m() }}",
    "{% filter upper %}{{ ''.__class__ }}{% endfilter %}",
]

LIMITS = [
    "{{ range(10**9)|list }}",
    "{% for i in range(10**9) %}{% endfor %}",
    "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
    "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}"
    "{{ f(60) }}",
    "{% set b = 'x' * 1000000 %}{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}"
    "{% else %}{{ b }}{% endif %}{% endmacro %}{{ f(20) }}",
    "{{ 'a' * 10**9 }}",
    "{{ [1] * 10**9 }}",
    "{{ 10 ** (10 ** 10) }}",
    "{{ 2 ** 100000 }}",
    "{% set n = 2 ** 8000 %}{{ n * n }}",
    "{{ '%0999999999d' % 1 }}",
    "{{ '%.999999999f' % 1 }}",
    "{{ '%*d' % (999999999, 1) }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ '{:{}}'.format(1, 999999999) }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'.center(10**9) }}",
    "{{ '1'.zfill(10**9) }}",
    "{{ ('\\t' * 1000).expandtabs(10**6) }}",
    "{{ (1).to_bytes(10**9, 'big') }}",
    "{{ 'x'|center(10**9) }}",
    "{{ 'x'|indent(10**9) }}",
    "{{ '%0999999999d'|format(1) }}",
    "{{ [1]|batch(10**9, 0)|list }}",
    "{{ [1]|slice(10**9)|list }}",
    "{{ 1|round(-10**9) }}",
    "{{ randomAlpha(10**9) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
    "{% set a = 'x' * 1000000 %}{{ [a, a, a, a, a, a, a, a, a, a]|join }}",
    "{% set a = 'x' * 1000000 %}{{ ([a] * 1000)|string }}",
    "{% set a = 'x' * 1000000 %}{{ [a] * 1000 }}",
    "{% set a = 'x' * 1000 %}{{ ','.join([a] * 100000) }}",
    "{% set a = 'x' * 100000 %}{{ ('%(a)s' * 10000) % {'a': a} }}",
    "{% set a = 'x' * 100000 %}{{ ('{0}' * 10000).format(a) }}",
    "{{ ('a' * 1000)|replace('a', 'a' * 100000) }}",
    "{{ ('a' * 1000).replace('a', 'a' * 100000) }}",
    "{% set l = ['x' * 100000] * 100000 %}{{ l|map('list')|list|length }}",
    "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}"
    "{% set ns.l = ns.l + ['x' * 999999 ~ i] %}{% endfor %}",
    "{% macro m() %}{% for i in range(100000) %}" + "x" * 200 + "{% endfor %}"
    "{% endmacro %}{% for i in range(1000) %}{% set y = m() %}{% endfor %}",
    "{% set t = \"{{ template(t, {'t': t}) }}\" %}{{ template(t, {'t': t}) }}",
]

OTHER = [
    "{{ config.items() }}",
    "{{ request.args.get('x') }}",
    "{% include 'etc/passwd' %}",
    "{% import 'os' as os %}{{ os }}",
    "{% extends 'base.html' %}",
    "{{ x() }}",
]


@pytest.fixture(scope="module")
def sandbox() -> TemplateEngine:
    """One engine for all payloads, with a short deadline to keep the suite fast."""
    return TemplateEngine(max_render_seconds=0.5)


def _context() -> dict[str, Any]:
    return {
        "Event": {
            "Name": "n",
            "Pack": {"Name": "p", "Labels": {"env": "e"}},
            "Payload": {"items": [1, 2]},
        },
        "Context": {"a": "b"},
    }


@pytest.mark.parametrize("payload", ESCAPES)
def test_escape_attempts_raise_security_errors(
    sandbox: TemplateEngine, payload: str
) -> None:
    with pytest.raises(TemplateSecurityError, match="unsafe|not allowed"):
        sandbox.render(payload, _context())


@pytest.mark.parametrize("payload", LIMITS)
def test_resource_exhaustion_is_refused(sandbox: TemplateEngine, payload: str) -> None:
    started = time.thread_time()
    with pytest.raises(TemplateLimitError):
        sandbox.render(payload, _context())
    assert time.thread_time() - started < 3.0


@pytest.mark.parametrize("payload", OTHER)
def test_other_probes_fail_cleanly(sandbox: TemplateEngine, payload: str) -> None:
    with pytest.raises(TemplateError):
        sandbox.render(payload, _context())


@pytest.mark.parametrize(
    "payload", ["{{ config }}", "{{ request }}", "{{ self }}", "{{ range }}"]
)
def test_harmless_lookups_leak_nothing(sandbox: TemplateEngine, payload: str) -> None:
    rendered = sandbox.render(payload, _context())
    assert "0x" not in rendered and "safe_range" not in rendered


def test_payload_data_may_contain_dunder_keys(sandbox: TemplateEngine) -> None:
    # Data is data: a JSON key named like an attribute is just a key.
    rendered = sandbox.render("{{ p.__class__ }}", {"p": {"__class__": "just data"}})
    assert rendered == "just data"


def test_errors_chain_the_original_exception(sandbox: TemplateEngine) -> None:
    with pytest.raises(TemplateSecurityError) as raised:
        sandbox.render("{{ ''.__class__ }}", {})
    assert raised.value.__cause__ is not None


@pytest.mark.skipif(not USES_RE2, reason="linear-time regexes need google-re2")
def test_catastrophic_regex_runs_in_linear_time(sandbox: TemplateEngine) -> None:
    source = "{{ ('a' * 5000 ~ '!')|match('^(a+)+$') }}"
    with finishes_within(1.0):
        assert sandbox.render(source, {}) == "False"


def test_process_stays_healthy_after_every_payload(sandbox: TemplateEngine) -> None:
    # Given the process's memory before the battery
    process = psutil.Process()
    rss_before = process.memory_info().rss
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    started = time.monotonic()
    # When every payload is rendered again
    for payload in ESCAPES + LIMITS + OTHER:
        with pytest.raises(TemplateError):
            sandbox.render(payload, _context())
    # Then time and memory stayed bounded and the engine still works
    assert time.monotonic() - started < 60
    peak_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    assert peak_after - peak_before < 512 * 1024 * 1024
    assert process.memory_info().rss - rss_before < 128 * 1024 * 1024
    assert sandbox.render("{{ 1 + 1 }}", {}) == "2"
