"""Servers of one test's own, which it may stop or hang (SIGSTOP) to test health."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flyte.devserver.embedded import free_port
from flyte.devserver.embedded import mongo_command
from flyte.devserver.embedded import redis_command
from tests.servers import Server


class OwnServer(Server):
    """A server no other test uses, so stopping or hanging it harms no one."""

    def __init__(
        self, name: str, command: list[str], port: int, log: Path, url: str
    ) -> None:
        super().__init__(name, command, port, log)
        self.url = url

    def hang(self) -> None:
        """SIGSTOP the server: it still accepts connections, but never answers."""
        os.kill(self._process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT a hung server (a no-op once it has exited)."""
        if self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGCONT)

    def close(self) -> None:
        """Resume (a stopped process ignores SIGTERM) and stop the server."""
        self.resume()
        self.stop()


@contextmanager
def own_redis(data_dir: Path) -> Iterator[OwnServer]:
    """A fresh redis-server; its ``url`` names database 0."""
    with _own("redis", redis_command, "redis://127.0.0.1:{port}/0", data_dir) as own:
        yield own


@contextmanager
def own_mongo(data_dir: Path) -> Iterator[OwnServer]:
    """A fresh nx-27017; its ``url`` is the MongoDB URI."""
    with _own("mongo", mongo_command, "mongodb://127.0.0.1:{port}/", data_dir) as own:
        yield own


@contextmanager
def _own(
    name: str,
    command: Callable[[Path, int], list[str]],
    url: str,
    data_dir: Path,
) -> Iterator[OwnServer]:
    """Start ``command`` on a free port in ``data_dir/own-NAME``; close it after."""
    port = free_port()
    server = OwnServer(
        name,
        command(data_dir / f"own-{name}", port),
        port,
        data_dir / f"own-{name}.out",
        url.format(port=port),
    )
    try:
        yield server
    finally:
        server.close()
