"""Output cap, render deadline and allocation budget, including in worker threads."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from templates import TemplateDeadlineError
from templates import TemplateEngine
from templates import TemplateError
from templates import TemplateLimitError
from templates import TemplateSyntaxError

SPIN = "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}"


def test_output_up_to_the_cap_is_fine() -> None:
    engine = TemplateEngine(max_output_bytes=100)
    assert engine.render("{{ 'x' * 100 }}", {}) == "x" * 100


@pytest.mark.parametrize(
    "source",
    [
        "{{ 'x' * 101 }}",
        "{{ x }}{{ x }}",
        "{% for i in range(101) %}x{% endfor %}",
        "{{ 'é' * 51 }}",  # 51 characters, 102 bytes
        "{{ range(60)|list }}",
    ],
)
def test_output_over_the_cap_is_refused(source: str) -> None:
    engine = TemplateEngine(max_output_bytes=100)
    with pytest.raises(TemplateLimitError):
        engine.render(source, {"x": "y" * 60})


def test_template_source_longer_than_the_cap_is_refused() -> None:
    engine = TemplateEngine(max_output_bytes=100)
    with pytest.raises(TemplateSyntaxError, match="longer than 100"):
        engine.check_syntax("{{ 1 }}" + " " * 100)


def test_deadline_stops_a_busy_loop() -> None:
    engine = TemplateEngine(max_render_seconds=0.2)
    started = time.thread_time()
    with pytest.raises(TemplateLimitError, match="longer than 0.2 seconds"):
        engine.render(SPIN, {})
    assert time.thread_time() - started < 1.0


def test_a_runaway_render_fails_with_a_deadline_error() -> None:
    engine = TemplateEngine(max_render_seconds=0.2)
    with pytest.raises(TemplateDeadlineError, match="0.2 seconds of CPU time"):
        engine.render(SPIN, {})


def test_deadline_does_not_count_time_the_thread_is_not_running() -> None:
    # Given a render that waits 0.5 s in a caller function (as a paused or
    # starved process would), with a 0.2 s deadline
    engine = TemplateEngine(max_render_seconds=0.2)

    def pause() -> str:
        time.sleep(0.5)
        return "woke"

    # When it renders, checking the deadline after the wait
    source = "{{ pause() }}{% for i in range(100) %}{{ i }}{% endfor %}"
    rendered = engine.render(source, {}, {"pause": pause})
    # Then the wait did not count against the deadline
    assert rendered.startswith("woke0123")


def test_deadline_counts_cpu_time_after_a_pause() -> None:
    # Given a render that first waits longer than its deadline
    engine = TemplateEngine(max_render_seconds=0.2)
    started = time.thread_time()
    # When it then spins
    with pytest.raises(TemplateDeadlineError):
        engine.render("{{ pause() }}" + SPIN, {}, {"pause": lambda: time.sleep(0.3)})
    # Then it is stopped once it has spent its CPU time (the deadline's clock)
    assert time.thread_time() - started < 1.5


def test_deadline_stops_exponential_macros() -> None:
    engine = TemplateEngine(max_render_seconds=0.2)
    source = (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
        "{% endmacro %}{{ f(50) }}"
    )
    with pytest.raises(TemplateLimitError):
        engine.render(source, {})


def test_deadline_covers_nested_template_calls() -> None:
    engine = TemplateEngine(max_render_seconds=0.2)
    source = "{% for i in range(99999) %}{{ template(inner, {}) }}{% endfor %}"
    inner = "{% for a in range(99999) %}{% endfor %}"
    with pytest.raises(TemplateLimitError):
        engine.render(source, {"inner": inner})


def test_deadline_works_in_worker_threads() -> None:
    # Given one engine shared by several worker threads
    engine = TemplateEngine(max_render_seconds=0.3)

    def spin() -> str:
        try:
            engine.render(SPIN, {})
        except TemplateLimitError as ex:
            return ex.reason
        return "finished?!"

    # When each runs a runaway template
    started = time.process_time()
    with ThreadPoolExecutor(max_workers=4) as pool:
        reasons = list(pool.map(lambda _: spin(), range(4)))
    # Then every render is stopped by its own deadline: the threads' CPU time
    # (the deadline's clock; the wall clock depends on the machine's load)
    assert all("longer than 0.3 seconds" in reason for reason in reasons)
    assert time.process_time() - started < 5.0


def test_concurrent_renders_do_not_share_state() -> None:
    engine = TemplateEngine()
    errors: list[str] = []

    def work(n: int) -> None:
        for _ in range(200):
            rendered = engine.render("{{ n }}-{{ randomAlpha(3)|length }}", {"n": n})
            if rendered != f"{n}-3":
                errors.append(rendered)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_budget_limits_intermediate_work() -> None:
    engine = TemplateEngine(max_output_bytes=1000, max_work=5000)
    source = "{% for i in range(100) %}{% set s = 'x' * 100 %}{% endfor %}"
    with pytest.raises(TemplateLimitError, match="intermediate"):
        engine.render(source, {})
    assert engine.render("{% set s = 'x' * 100 %}{{ s|length }}", {}) == "100"


def test_budget_is_per_render() -> None:
    engine = TemplateEngine(max_output_bytes=1000, max_work=2000)
    for _ in range(10):
        assert engine.render("{{ 'x' * 900 }}", {}) == "x" * 900


@pytest.mark.parametrize(
    ("source", "ok"),
    [
        ("{{ range(100000)|length }}", True),
        ("{{ range(100001)|length }}", False),
        ("{{ range(0, 10**12, 10**7)|length }}", True),
        ("{{ (2 ** 8000) > 0 }}", True),
        ("{{ (2 ** 8192) > 0 }}", False),
        ("{% set n = 2 ** 5000 %}{{ n * n > 0 }}", False),
        ("{% set n = 2 ** 8191 %}{{ n + n > 0 }}", False),
        ("{{ 10**10**10 > 0 }}", True),  # Jinja's ** is left-associative: (10**10)**10
        ("{{ 2.0 ** 5000 }}", False),
        ("{{ -2 ** 3 }}", True),
    ],
)
def test_numeric_limits(engine: TemplateEngine, source: str, ok: bool) -> None:
    if ok:
        engine.render(source, {})
    else:
        with pytest.raises(TemplateError):
            engine.render(source, {})


def test_recursion_is_a_limit_error(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateLimitError, match="recursion"):
        engine.render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", {})


def test_engine_is_usable_after_limit_errors(engine: TemplateEngine) -> None:
    with pytest.raises(TemplateLimitError):
        engine.render("{{ 'a' * 10**9 }}", {})
    assert engine.render("{{ 'a' * 3 }}", {}) == "aaa"
