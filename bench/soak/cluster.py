"""The soak's system under test: nx-27017, Redis (AOF) and Flyte's processes.

Every process runs in its own session, so a fault reaches the whole process
group (a Dramatiq worker is a parent and its forked children), as a crash of a
container or a machine would.
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

from flyte.devserver.embedded import free_port
from flyte.devserver.embedded import mongo_command
from flyte.devserver.embedded import redis_command
from flyte.devserver.embedded import wait_for_port
from flyte.devserver.processes import WORKER_BROKER
from flyte.devserver.processes import WORKER_IDLE_POLL_MS

#: Short operator timings, so that leases, lost messages and dead schedulers are
#: dealt with in seconds and a run takes minutes (docs/configuration.md).
FAST_TIMINGS = {
    "FLYTE_ACTION_LEASE_SECONDS": "4",
    # Consumers crash on purpose; enough takes that none runs out of them.
    "FLYTE_ACTION_MAX_ATTEMPTS": "20",
    # Above the queue delay the faults cause on a busy machine: a shorter
    # window re-queues events that are only waiting, and floods the queue.
    "FLYTE_EVENT_RECOVERY_SECONDS": "30",
    "FLYTE_RECOVERY_INTERVAL_SECONDS": "5",
    "FLYTE_LEASE_CHECK_INTERVAL_SECONDS": "1",
    "FLYTE_ORPHAN_WINDOW_SECONDS": "10",
    "FLYTE_EVENT_MAX_RECOVERIES": "20",
    "FLYTE_MGO_TIMEOUT_MS": "3000",
    "LOGLEVEL": "info",
}


@dataclass
class Proc:
    """One restartable process of the cluster."""

    name: str
    command: list[str]
    env: dict[str, str]
    log: Path
    port: int | None = None
    popen: subprocess.Popen[bytes] | None = None
    stopped: bool = False

    def start(self) -> None:
        """Start (or restart) it, appending to its log."""
        with self.log.open("ab") as out:
            out.write(f"\n=== soak: start {self.name} at {time.time():.3f}\n".encode())
            out.flush()
            self.popen = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.stopped = False

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to its whole process group."""
        if self.popen is not None and self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        self.stopped = sig == signal.SIGSTOP

    def kill(self) -> None:
        """SIGKILL the process group, as a crash; reap the leader."""
        if self.stopped:
            self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait()

    def is_alive(self) -> bool:
        """True while the process runs (or is stopped)."""
        return self.popen is not None and self.popen.poll() is None


@dataclass
class Cluster:
    """Two webs, two workers, two schedulers, one nx-27017, one Redis with AOF."""

    root: Path
    appendfsync: str = "everysec"
    mongo_port: int = field(default_factory=free_port)
    redis_port: int = field(default_factory=free_port)
    procs: dict[str, list[Proc]] = field(default_factory=dict)

    @property
    def mongo_uri(self) -> str:
        """Where the store listens; the checks read it directly."""
        return f"mongodb://127.0.0.1:{self.mongo_port}/flyte"

    @property
    def web_ports(self) -> list[int]:
        """The ports of the two API processes."""
        return [proc.port for proc in self.procs["web"] if proc.port is not None]

    def start(self) -> None:
        """Start every process and wait for the APIs to answer /health."""
        self.root.mkdir(parents=True, exist_ok=True)
        self.procs["mongo"] = [self._proc("mongo", self._mongo_command())]
        self.procs["redis"] = [self._proc("redis", self._redis_command())]
        for proc in self.procs["mongo"] + self.procs["redis"]:
            proc.start()
        wait_for_port(self.mongo_port, 30)
        wait_for_port(self.redis_port, 30)
        self.procs["web"] = [self._web(n) for n in range(2)]
        self.procs["worker"] = [self._worker(n) for n in range(2)]
        self.procs["scheduler"] = [self._scheduler(n) for n in range(2)]
        for kind in ("web", "worker", "scheduler"):
            for proc in self.procs[kind]:
                proc.start()
        for port in self.web_ports:
            wait_healthy(port, 60)

    def restart(self, proc: Proc) -> None:
        """Start a killed process again (Redis reloads its append-only file)."""
        proc.start()

    def stop(self) -> None:
        """Kill everything, newest kinds first."""
        for kind in ("scheduler", "worker", "web", "redis", "mongo"):
            for proc in self.procs.get(kind, []):
                proc.kill()

    def ensure_running(self) -> None:
        """Resume stopped and restart dead processes (before the final drain)."""
        for procs in self.procs.values():
            for proc in procs:
                if proc.stopped:
                    proc.signal(signal.SIGCONT)
                if not proc.is_alive():
                    proc.start()
        wait_for_port(self.redis_port, 30)
        for port in self.web_ports:
            wait_healthy(port, 60)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLYTE_")}
        env.update(FAST_TIMINGS)
        env.update(
            FLYTE_MGO_HOST=self.mongo_uri,
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            FLYTE_BIND="127.0.0.1",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _proc(self, name: str, command: list[str], port: int | None = None) -> Proc:
        return Proc(name, command, self._env(), self.root / f"{name}.log", port)

    def _mongo_command(self) -> list[str]:
        return mongo_command(self.root, self.mongo_port)

    def _redis_command(self) -> list[str]:
        command = redis_command(self.root, self.redis_port)
        at = command.index("--appendfsync")
        command[at + 1] = self.appendfsync
        return command

    def _web(self, n: int) -> Proc:
        port = free_port()
        proc = self._proc(f"web{n}", [sys.executable, "-m", "api"], port)
        proc.env.update(FLYTE_PORT=str(port), FLYTE_WEB_THREADS="8")
        return proc

    def _worker(self, n: int) -> Proc:
        command = [sys.executable, "-m", "dramatiq", WORKER_BROKER]
        command += ["--processes", "1", "--threads", "4"]
        proc = self._proc(f"worker{n}", command)
        proc.env["dramatiq_worker_timeout"] = str(WORKER_IDLE_POLL_MS)
        return proc

    def _scheduler(self, n: int) -> Proc:
        return self._proc(f"scheduler{n}", [sys.executable, "-m", "workers.scheduler"])


def wait_healthy(port: int, timeout: float) -> None:
    """Block until the API on ``port`` answers /health with 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the API on port {port} is not healthy after {timeout:.0f} s")
