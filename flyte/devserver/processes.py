"""The Flyte processes, each scaled on its own; the Procfile mirrors ``PROCESSES``."""

from __future__ import annotations

#: An idle worker looks for new messages at least this often (Dramatiq's default,
#: 1 s, would add up to a second of latency after a quiet spell). At 50 ms the
#: first event after a quiet spell, or after a start, is takeable within 100 ms,
#: as upstream's acceptance test expects (docs/performance.md).
WORKER_IDLE_POLL_MS = 50

#: What Dramatiq imports in each worker process: the entry module and its broker.
WORKER_BROKER = "workers.main:broker"


def worker_command(processes: int, threads: int) -> str:
    """The Dramatiq workers, on the broker and actors that ``workers.main`` sets up."""
    # Dramatiq's CLI reads the idle poll only from this environment variable.
    return (
        f"dramatiq_worker_timeout={WORKER_IDLE_POLL_MS}"
        f" python -m dramatiq {WORKER_BROKER}"
        f" --processes {processes} --threads {threads}"
    )


#: Procfile name -> command. ``python`` must be the interpreter Flyte is installed in.
PROCESSES: dict[str, str] = {
    "web": "python -m api",
    "worker": worker_command(processes=2, threads=4),
    "scheduler": "python -m workers.scheduler",
}


def procfile_text() -> str:
    """The Procfile for ``PROCESSES``."""
    return "".join(f"{name}: {command}\n" for name, command in PROCESSES.items())
