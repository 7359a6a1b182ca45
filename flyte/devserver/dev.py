"""``flyte dev``: the whole system in the foreground, with embedded servers by default.

Unless ``FLYTE_MGO_HOST`` / ``REDIS_URL`` name servers, nx-27017 and redis-server
start under ``FLYTE_DATA_DIR``; then the Procfile processes start. honcho
supervises them all: Ctrl-C or SIGTERM stops every process group, and if one
process dies the rest are stopped too.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from honcho.manager import Manager
from honcho.printer import Printer

from flyte.config import Settings
from flyte.devserver.embedded import can_listen
from flyte.devserver.embedded import free_port
from flyte.devserver.embedded import is_port_free
from flyte.devserver.embedded import mongo_command
from flyte.devserver.embedded import redis_command
from flyte.devserver.processes import PROCESSES
from flyte.devserver.processes import worker_command
from flyte.errors import ConfigError
from flyte.metrics import prepare_multiprocess_dir

#: Ports tried first for the embedded servers, so local tools find them as usual.
DEFAULT_MONGO_PORT = 27017
DEFAULT_REDIS_PORT = 6379
#: The dev API listens on loopback unless FLYTE_BIND says otherwise.
DEV_BIND = "127.0.0.1"


@dataclass(frozen=True)
class DevOptions:
    """Command-line choices of ``flyte dev``; 0 means "pick a port"."""

    mongo_port: int = 0
    redis_port: int = 0
    worker_processes: int = 1
    worker_threads: int = 8
    #: API processes, on consecutive ports from FLYTE_PORT.
    web: int = 1
    #: Worker supervisors, each running ``worker_processes`` Dramatiq processes.
    workers: int = 1


def run_dev(environ: Mapping[str, str], options: DevOptions) -> int:
    """Start everything and block until stopped; return the exit code."""
    settings = Settings.from_env(environ)
    bind = environ.get("FLYTE_BIND") or DEV_BIND
    ports = web_ports(settings.port, options.web)
    # Checked before anything starts, so a taken port leaves nothing running.
    for port in ports:
        if port and not can_listen(port, bind):
            print(port_in_use(port), file=sys.stderr, flush=True)
            return 1
    data_dir = Path(settings.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    manager = Manager(Printer(PipeSafeOutput(sys.stdout)))
    env = _child_environment(environ)
    if not environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every web and worker process adds to one set of metrics, and a new
        # session starts from zero, as its processes do.
        metrics_dir = prepare_multiprocess_dir(data_dir / "metrics", fresh=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    if not environ.get("FLYTE_MGO_HOST"):
        port = _choose_port(options.mongo_port, DEFAULT_MONGO_PORT)
        # nx-27017 prints tracebacks on normal shutdown; keep them in its own file.
        mongo_out = shlex.quote(str(data_dir / "mongo.out"))
        command = shlex.join(mongo_command(data_dir, port))
        manager.add_process("mongo", f"{command} >>{mongo_out} 2>&1")
        env["FLYTE_MGO_HOST"] = f"127.0.0.1:{port}"
    if not environ.get("REDIS_URL"):
        port = _choose_port(options.redis_port, DEFAULT_REDIS_PORT)
        manager.add_process("redis", shlex.join(redis_command(data_dir, port)))
        env["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    for name, command, extra in _commands(options, ports):
        manager.add_process(name, command, env={**env, **extra})
    _print_banner(env, settings, ports)
    manager.loop()
    # Stopping on Ctrl-C or SIGTERM is the normal way out of a dev session.
    return 0 if manager.returncode in (None, 0, 130, 143) else int(manager.returncode)


class PipeSafeOutput:
    """stdout that stays quiet once its reader is gone, instead of raising.

    In ``flyte dev | tee log`` Ctrl-C stops ``tee`` too; the shutdown messages
    then met a broken pipe, the error ended honcho's stop handler half way, and
    every process kept running.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._broken = False

    def write(self, text: str) -> int:
        """Write ``text``, or drop it when the reader has gone."""
        if not self._broken:
            try:
                self._stream.write(text)
            except BrokenPipeError:
                self._broken = True
        return len(text)

    def flush(self) -> None:
        """Flush, unless the reader has gone."""
        if not self._broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._broken = True

    def isatty(self) -> bool:
        """Whether the stream is a terminal (honcho colours its lines then)."""
        return self._stream.isatty()


def port_in_use(port: int) -> str:
    """The one line ``flyte dev`` prints when its API port is taken."""
    return (
        f"flyte dev: port {port} is in use; set FLYTE_PORT to another port "
        f"(e.g. FLYTE_PORT={port + 1 if port < 65535 else 8081} flyte dev)"
    )


def web_ports(first: int, count: int) -> list[int]:
    """The API processes' ports: ``count`` consecutive ones from ``first``."""
    if first and first + count - 1 > 65535:
        raise ConfigError("FLYTE_PORT", f"{count} API ports from {first} pass 65535")
    # Port 0 asks each process for a free port of its own.
    return [first + i if first else 0 for i in range(count)]


def _commands(
    options: DevOptions, ports: list[int]
) -> list[tuple[str, str, dict[str, str]]]:
    """(name, command, extra environment) of each process honcho runs."""
    worker = worker_command(options.worker_processes, options.worker_threads)
    return [
        *_scaled("web", PROCESSES["web"], [{"FLYTE_PORT": str(p)} for p in ports]),
        *_scaled("worker", worker, [{} for _ in range(options.workers)]),
        ("scheduler", PROCESSES["scheduler"], {}),
    ]


def _scaled(
    name: str, command: str, extras: list[dict[str, str]]
) -> list[tuple[str, str, dict[str, str]]]:
    """One entry per copy; several are named ``name.1``, ``name.2``... as honcho -c."""
    if len(extras) == 1:
        return [(name, command, extras[0])]
    return [(f"{name}.{i}", command, extra) for i, extra in enumerate(extras, 1)]


def _child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    env = dict(environ)
    env.setdefault("FLYTE_BIND", DEV_BIND)
    # The Procfile says ``python``: make that the interpreter running flyte dev.
    env["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), env.get("PATH", "")]
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _choose_port(requested: int, preferred: int) -> int:
    if requested:
        return requested
    return preferred if is_port_free(preferred) else free_port()


def api_root(env: Mapping[str, str], settings: Settings) -> str:
    """The API's root URL as the CLI and packs on this host reach it."""
    host = env["FLYTE_BIND"] if env["FLYTE_BIND"] != "0.0.0.0" else "localhost"
    scheme = "https" if settings.tls_enabled else "http"
    return f"{scheme}://{host}:{settings.port}"


def _print_banner(env: Mapping[str, str], settings: Settings, ports: list[int]) -> None:
    api = api_root(env, settings)
    print(
        "Flyte dev is starting (Ctrl-C stops everything):\n"
        f"  API         {api}/v1\n"
        f"{_more_apis(env, settings, ports[1:])}"
        f"  Health      {api}/health\n"
        f"  Console     {api}/console\n"
        f"  Swagger UI  {api}/swagger\n"
        f"  Metrics     {api}/metrics\n"
        f"  MongoDB     {env['FLYTE_MGO_HOST']}\n"
        f"  Redis       {env['REDIS_URL']}\n"
        f"{_broker_line(settings)}"
        f"  Data, logs  {settings.data_dir}\n"
        "For the CLI and packs in another shell:\n"
        f"  export FLYTE_API={api}",
        flush=True,
    )


def _more_apis(env: Mapping[str, str], settings: Settings, ports: list[int]) -> str:
    """Banner lines of the API processes after the first (``--web N``)."""
    roots = [api_root(env, replace(settings, port=port)) for port in ports]
    return "".join(f"  API {i:<7} {root}/v1\n" for i, root in enumerate(roots, 2))


def _broker_line(settings: Settings) -> str:
    """The banner's broker line when FLYTE_BROKER_URL names one, password hidden."""
    if not settings.broker_url:
        return ""
    parts = urlsplit(settings.broker)
    if parts.password:
        host = parts.netloc.rpartition("@")[2]
        parts = parts._replace(netloc=f"{parts.username}:***@{host}")
    return f"  Broker      {urlunsplit(parts)}\n"
