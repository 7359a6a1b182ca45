"""A real ``flyte dev`` for end-to-end tests: started on free ports, waited for."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import pytest

from flyte.devserver.embedded import free_port

#: The issue's bound on start-up: /health answers 200 within this many seconds.
HEALTHY_WITHIN = 15.0
STOP_WITHIN = 20.0


def start_dev(
    data_dir: Path, port: int, *, into_pipe: bool = False, options: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """``flyte dev [options]`` on ``port``; output in ``data_dir/dev.out`` or a pipe."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("FLYTE_MGO_HOST", "REDIS_URL")
    }
    env.update(FLYTE_DATA_DIR=str(data_dir), FLYTE_PORT=str(port))
    flyte = Path(sys.executable).parent / "flyte"
    command = [str(flyte), "dev", "--mongo-port", str(free_port())]
    command += ["--redis-port", str(free_port()), *options]
    with (data_dir / "dev.out").open("wb") as log:
        return subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE if into_pipe else log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


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
