"""Helpers of the CLI tests: run ``flyte`` in-process against an API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flyte.cli import main

#: Flow files of the tests.
FLOWS = Path(__file__).resolve().parents[2] / "data" / "flows"


@dataclass(frozen=True)
class Run:
    """What one ``flyte`` command did."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """Stdout, parsed: the one JSON document of ``--json``."""
        return json.loads(self.out)


def flyte(
    capsys: pytest.CaptureFixture[str],
    api: str,
    *args: str,
    environ: dict[str, str] | None = None,
) -> Run:
    """Run ``flyte ARGS`` with ``FLYTE_API=api`` (plus ``environ``)."""
    capsys.readouterr()
    code = main(list(args), environ={"FLYTE_API": api, **(environ or {})})
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


#: A flow whose input reaches Event.Payload.user.name.first; ``{strict}`` is a line.
GREET_FLOW = (
    "name: greet\n"
    "{strict}"
    "steps:\n"
    "- id: greet\n"
    "  event: {{packName: Bot, name: Said}}\n"
    "  command:\n"
    "    packName: Bot\n"
    "    name: Say\n"
    '    input: "Hello, {{{{ Event.Payload.user.name.first|upper }}}}!"\n'
)


def send_greet_without_user(
    capsys: pytest.CaptureFixture[str], api: str, flow_dir: Path, strict: str
) -> Run:
    """Apply GREET_FLOW, then send an event without ``user`` and wait for it."""
    flow = flow_dir / "greet.yaml"
    flow.write_text(GREET_FLOW.format(strict=strict))
    assert flyte(capsys, api, "flows", "apply", str(flow)).code == 0
    args = ("events", "send", "Bot", "Said", "--register", "--payload", '{"a": 1}')
    return flyte(capsys, api, *args, "--wait", "20")
