"""Benchmark the template engine: evaluations per second with a warm cache, one process.

Run: ``python bench/templates/bench_templates.py [--seconds 2]``. Prints evals/s for
simple criteria, regex criteria, a realistic criteria mix, step context / command
input resolution, and the whole per-step workload of the quickstart flow.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from templates import TemplateEngine  # noqa: E402
from templates.patterns import USES_RE2  # noqa: E402

SIMPLE_CRITERIA = [
    "{{ Event.Payload.exit_code|integer == 0 }}",
    "{{ Event.Name == 'Output' && Event.Pack.Name == 'Shell' }}",
    "{{ Event.Pack.Labels.env == 'prod' }}",
    "{{ Context.ChannelID != '' }}",
]
REGEX_CRITERIA = [
    "{{ Event.Payload.message|match:'^flyte(\\\\s+)uk-bank-holidays$' }}",
    "{{ Event.Payload.message is match('^deploy') }}",
]
MIXED_CRITERIA = (
    SIMPLE_CRITERIA
    + REGEX_CRITERIA
    + [
        "true",
        "{% if Event.Payload.threadTimestamp != '' %}true{% else %}false{% endif %}",
    ]
)
STEP_CONTEXT = {
    "Tts": "{% if Event.Payload.threadTimestamp != '' %}"
    "{{ Event.Payload.threadTimestamp }}{% else %}{{ Event.Payload.timestamp }}"
    "{% endif %}",
    "ChannelID": "{{ Event.Payload.channelId }}",
    "Requestor": "{{ Event.Payload.user.id }}",
}
COMMAND_INPUT = {
    "channelId": "{{ Context.ChannelID }}",
    "threadTimestamp": "{{ Context.Tts }}",
    "message": "Hey <@{{ Context.Requestor }}>! Next UK bank holidays:\n"
    "{{ Event.Payload.stdout }}",
    "attachments": [{"title": "{{ Event.Payload.message|slice:'6:'|upper }}"}],
    "retries": 3,
}


def _contexts() -> list[dict[str, Any]]:
    base_payload = {
        "exit_code": 0,
        "stdout": "25 December 2024\n26 December 2024",
        "threadTimestamp": "",
        "timestamp": "1518650289.000100",
        "channelId": "C123",
        "user": {"id": "U42"},
    }
    messages = [
        "flyte uk-bank-holidays",
        "deploy prod",
        "flyte  uk-bank-holidays",
        "hi",
    ]
    return [
        {
            "Event": {
                "Name": "Output",
                "Pack": {"Id": "Shell", "Name": "Shell", "Labels": {"env": env}},
                "Payload": {**base_payload, "message": message, "exit_code": code},
                "CreatedAt": "2024-05-06T09:45:12Z",
            },
            "Context": {
                "ChannelID": "C123",
                "Tts": "1518650289.000100",
                "Requestor": "U",
            },
        }
        for message, env, code in zip(
            messages, ["prod", "dev"] * 2, [0, 1, 0, 2], strict=True
        )
    ]


def _rate(seconds: float, run: Callable[[], None]) -> float:
    """Calls per second of ``run`` over about ``seconds`` (after a warm-up)."""
    for _ in range(200):
        run()
    count, started = 0, time.perf_counter()
    deadline = started + seconds
    while (now := time.perf_counter()) < deadline:
        for _ in range(500):
            run()
        count += 500
    return count / (now - started)


def _cycle(engine_call: Callable[[Any, dict[str, Any]], Any], items: list[Any]) -> Any:
    pairs = itertools.cycle(list(itertools.product(items, _contexts())))

    def run() -> None:
        item, context = next(pairs)
        engine_call(item, context)

    return run


def main(argv: list[str] | None = None) -> None:
    """Run every scenario and print evaluations per second."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per scenario")
    seconds = parser.parse_args(argv).seconds
    engine = TemplateEngine()
    criteria = engine.evaluate_criteria

    def step(_: Any, context: dict[str, Any]) -> None:
        ctx = engine.resolve(STEP_CONTEXT, context)
        # Always true, so every step does all 8 renders.
        if engine.evaluate_criteria(SIMPLE_CRITERIA[3], {**context, "Context": ctx}):
            engine.resolve(COMMAND_INPUT, {**context, "Context": ctx})

    scenarios: list[tuple[str, Callable[[], None], int]] = [
        ("simple criteria", _cycle(criteria, SIMPLE_CRITERIA), 1),
        ("regex criteria", _cycle(criteria, REGEX_CRITERIA), 1),
        ("criteria mix", _cycle(criteria, MIXED_CRITERIA), 1),
        ("input string", _cycle(engine.render, [COMMAND_INPUT["message"]]), 1),
        ("step context (3 strings)", _cycle(engine.resolve, [STEP_CONTEXT]), 3),
        ("command input (4 strings)", _cycle(engine.resolve, [COMMAND_INPUT]), 4),
        ("quickstart step (8 renders)", _cycle(step, [None]), 8),
    ]
    print(f"regex engine: {'RE2' if USES_RE2 else 're'}; {seconds:g} s per scenario")
    print(f"{'scenario':30} {'calls/s':>12} {'renders/s':>12}")
    for name, run, renders in scenarios:
        rate = _rate(seconds, run)
        print(f"{name:30} {rate:12,.0f} {rate * renders:12,.0f}")


if __name__ == "__main__":
    main()
