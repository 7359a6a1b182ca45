"""The Procfile and ``flyte dev`` run the same processes."""

from __future__ import annotations

from pathlib import Path

from flyte.devserver.processes import PROCESSES
from flyte.devserver.processes import procfile_text

ROOT = Path(__file__).resolve().parents[2]


def test_procfile_mirrors_the_process_table() -> None:
    assert (ROOT / "Procfile").read_text() == procfile_text()


def test_web_worker_and_scheduler_are_separate_processes() -> None:
    assert set(PROCESSES) == {"web", "worker", "scheduler"}
