"""The Flyte processes, each scaled on its own; the Procfile mirrors ``PROCESSES``."""

from __future__ import annotations

#: Procfile name -> command. ``python`` must be the interpreter Flyte is installed in.
PROCESSES: dict[str, str] = {
    "web": "python -m api",
    "worker": "python -m dramatiq workers --processes 2 --threads 4",
    "scheduler": "python -m workers.scheduler",
}


def procfile_text() -> str:
    """The Procfile for ``PROCESSES``."""
    return "".join(f"{name}: {command}\n" for name, command in PROCESSES.items())
