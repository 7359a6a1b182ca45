"""Help as a new user finds it: bare ``flyte``, and ``--help`` of each command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

#: The ``flyte`` script installed beside this interpreter, as a user types it.
FLYTE = shutil.which("flyte", path=str(Path(sys.executable).parent)) or "flyte"


def typed(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``flyte ARGS`` as typed in a terminal."""
    return subprocess.run(
        [FLYTE, *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_bare_flyte_prints_help_and_exits_0() -> None:
    done = typed()
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("usage: flyte")
    for command in ("dev", "flows", "events", "packs", "datastore", "audit"):
        assert command in done.stdout


def test_flyte_dev_help_describes_the_worker_options() -> None:
    done = typed("dev", "--help")
    assert done.returncode == 0
    assert "--worker-processes N  worker processes that evaluate flows" in done.stdout
    assert "--worker-threads N    threads in each worker process" in done.stdout


def test_packs_run_help_lists_the_api_option() -> None:
    done = typed("packs", "run", "--help")
    assert done.returncode == 0
    assert "--api URL" in done.stdout
