"""A pack you can run: its definition, plus ``start()`` and ``run()``.

The dependency points one way: ``Pack`` builds and drives a ``PackRunner``, and
the runner knows only the ``PackDefinition`` it runs.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Mapping

from flyte.sdk.client import ApiClient
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

logger = logging.getLogger(__name__)

#: The log line format of ``run()`` when the program has not set up logging.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Pack(PackDefinition):
    """A pack: declare commands with ``@pack.command``, then ``run()`` it."""

    def start(
        self,
        config: ClientConfig | None = None,
        environ: Mapping[str, str] = os.environ,
        *,
        background: Background | None = None,
    ) -> PackRunner:
        """Register and start polling in the background; the runner is returned.

        Installs no signal handlers: stopping is the caller's ``runner.stop()``.
        """
        config = config or ClientConfig.from_env(environ)
        runner = PackRunner(self, ApiClient(config), config.labels)
        _start(runner, config, background)
        return runner

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
        _log_to_stderr_unless_configured()
        config = config or ClientConfig.from_env(environ)
        runner = PackRunner(self, ApiClient(config), config.labels)
        stop_requested = threading.Event()

        def request_stop(signum: int, frame: object) -> None:
            logger.info("Pack %s stopping (signal %d)", self.name, signum)
            # Also ends a registration still retrying against an absent API.
            runner.stopping.set()
            stop_requested.set()

        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, request_stop) for sig in signals}
        try:
            _start(runner, config, background)
            stop_requested.wait()
            runner.stop()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _start(
    runner: PackRunner, config: ClientConfig, background: Background | None
) -> None:
    """Start ``runner``, then ``background``; a failed start leaves nothing open."""
    logger.info("Pack %s starting against %s", runner.pack.name, config.api_url)
    try:
        runner.start(health_port=config.health_port or None)
    except BaseException:
        runner.stop(timeout=0)
        raise
    if background is not None and runner.registered:
        threading.Thread(
            target=background, args=(runner,), name="flyte-background", daemon=True
        ).start()


def _log_to_stderr_unless_configured() -> None:
    """INFO lines to stderr, so a script's pack says where it registers.

    Python shows only warnings until a program sets up logging; a program that
    has (any handler on the root logger) keeps its own setup.
    """
    if logging.getLogger().handlers:
        return
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr)
    # httpx logs every request at INFO: one line per poll would flood the log.
    logging.getLogger("httpx").setLevel(logging.WARNING)


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
