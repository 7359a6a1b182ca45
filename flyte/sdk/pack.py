"""A pack you can run: its definition, plus ``start()`` and ``run()``.

The dependency points one way: ``Pack`` uses the runner, and the runner knows
only the ``PackDefinition`` it runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from flyte.sdk.config import ClientConfig
from flyte.sdk.definition import FATAL
from flyte.sdk.definition import Command
from flyte.sdk.definition import Event
from flyte.sdk.definition import EventDef
from flyte.sdk.definition import Handler
from flyte.sdk.definition import PackDefinition
from flyte.sdk.definition import fatal_event
from flyte.sdk.runner import Background
from flyte.sdk.runner import PackRunner
from flyte.sdk.runner import run_pack
from flyte.sdk.runner import start_pack


class Pack(PackDefinition):
    """A pack: declare commands with ``@pack.command``, then ``run()`` it."""

    def start(
        self,
        config: ClientConfig | None = None,
        environ: Mapping[str, str] = os.environ,
        *,
        background: Background | None = None,
    ) -> PackRunner:
        """Register and start polling in the background; the runner is returned."""
        return start_pack(self, config, environ, background)

    def run(
        self,
        config: ClientConfig | None = None,
        environ: Mapping[str, str] = os.environ,
        *,
        background: Background | None = None,
    ) -> None:
        """Start, then block until SIGINT/SIGTERM and shut down gracefully.

        ``background(runner)`` runs in a daemon thread once registered: a loop
        that watches something and calls ``runner.send_event``.
        """
        run_pack(self, config, environ, background)


__all__ = [
    "FATAL",
    "Command",
    "Event",
    "EventDef",
    "Handler",
    "Pack",
    "PackDefinition",
    "fatal_event",
]
