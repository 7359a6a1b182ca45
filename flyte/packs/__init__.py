"""The example packs that ship with Flyte, each run with ``flyte pack run NAME``.

Every example is a module with ``build_pack(...)`` (the pack, handlers callable
directly) and ``main(argv, environ)``; see docs/example-packs.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from collections.abc import Sequence

from flyte.packs.errors import UnknownExample

#: The examples by name, each with what it does in one line.
EXAMPLES: dict[str, str] = {
    "shell": "Shell: runs bash scripts, answers Output {stdout, stderr, exit_code}",
    "http": "HTTP: makes HTTP requests, answers Response or RequestFailed",
    "timer": "Timer: sends Tick events on cron schedules read from a YAML file",
    "chat": "Chat: a terminal chat, lines typed become ReceivedMessage events",
}


def run_example(name: str, argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """Run the example pack ``name`` with its options ``argv``; its exit status."""
    if name not in EXAMPLES:
        raise UnknownExample(name, list(EXAMPLES))
    module = importlib.import_module(f"flyte.packs.{name}")
    status: int = module.main(list(argv), environ)
    return status


__all__ = ["EXAMPLES", "UnknownExample", "run_example"]
