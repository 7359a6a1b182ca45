"""A real ``flyte dev`` for end-to-end tests: started on free ports, waited for."""

from __future__ import annotations

import random
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest

from flyte.devserver.embedded import can_listen
from flyte.devserver.launch import launch_dev

#: The issue's bound on start-up: /health answers 200 within this many seconds.
HEALTHY_WITHIN = 15.0
STOP_WITHIN = 20.0
#: Ports below Linux's ephemeral range (32768-60999), which outgoing connections
#: and free_port() draw from: a port picked here is not taken by a client's
#: connection before flyte dev binds it, as the port after a free one was.
LOW_PORTS = range(20000, 32000)


def consecutive_free_ports(count: int = 2) -> int:
    """The first of ``count`` consecutive free ports, for ``flyte dev --web N``."""
    for _ in range(100):
        first = random.randrange(LOW_PORTS.start, LOW_PORTS.stop - count)
        if all(can_listen(first + offset) for offset in range(count)):
            return first
    pytest.fail(f"no {count} consecutive free ports")


def start_dev(
    data_dir: Path, port: int, *, into_pipe: bool = False, options: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``flyte dev [options]`` on ``port``; output in ``data_dir/dev.out`` or a pipe."""
    return launch_dev(data_dir, port, options=options, into_pipe=into_pipe)


def wait_healthy(base: str, dev: subprocess.Popen[bytes]) -> float:
    started = time.monotonic()
    while time.monotonic() - started < HEALTHY_WITHIN:
        assert dev.poll() is None, "flyte dev exited during start-up"
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1) as resp:
                if resp.status == 200:
                    return time.monotonic() - started
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"/health did not answer 200 within {HEALTHY_WITHIN} s")
