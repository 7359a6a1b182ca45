"""The code stays typed and linted: mypy (strict, per pyproject.toml) and ruff."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a Python tool module from the project root."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_mypy_finds_no_error() -> None:
    run = run_tool("mypy")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_finds_no_lint_error() -> None:
    run = run_tool("ruff", "check", ".")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_finds_the_code_formatted() -> None:
    run = run_tool("ruff", "format", "--check", ".")
    assert run.returncode == 0, run.stdout + run.stderr
