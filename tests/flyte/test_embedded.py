"""Embedded-server helpers: stale pid files never block a restart."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte.devserver.embedded import clear_stale_pid_file
from flyte.devserver.embedded import free_port
from flyte.devserver.embedded import is_port_free
from flyte.errors import FlyteError


@pytest.fixture
def fake_mongo() -> Iterator[subprocess.Popen[bytes]]:
    """A live process whose command line looks like nx-27017's."""
    code = "import time; time.sleep(60)"
    process = subprocess.Popen([sys.executable, "-c", code, "nx_27017"])
    # Until the child has exec'd, /proc shows the parent's command line.
    cmdline = Path(f"/proc/{process.pid}/cmdline")
    deadline = time.monotonic() + 10
    while b"nx_27017" not in cmdline.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.01)
    yield process
    process.kill()
    process.wait()


def test_pid_file_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    done = subprocess.Popen(["true"])
    done.wait()
    pid_file = tmp_path / "mongo.pid"
    pid_file.write_text(str(done.pid))
    clear_stale_pid_file(pid_file)
    assert not pid_file.exists()


def test_pid_file_of_a_recycled_pid_is_removed(tmp_path: Path) -> None:
    pid_file = tmp_path / "mongo.pid"
    pid_file.write_text("1")  # alive, but not nx-27017
    clear_stale_pid_file(pid_file)
    assert not pid_file.exists()


def test_garbage_pid_file_is_removed(tmp_path: Path) -> None:
    pid_file = tmp_path / "mongo.pid"
    pid_file.write_text("not a pid")
    clear_stale_pid_file(pid_file)
    assert not pid_file.exists()


def test_pid_file_of_a_live_mongo_is_refused(
    tmp_path: Path, fake_mongo: subprocess.Popen[bytes]
) -> None:
    pid_file = tmp_path / "mongo.pid"
    pid_file.write_text(str(fake_mongo.pid))
    with pytest.raises(FlyteError, match="already runs"):
        clear_stale_pid_file(pid_file)
    assert pid_file.exists()


def test_free_port_is_free() -> None:
    assert is_port_free(free_port())
