"""The README's curl walkthrough, pasted as one block into sh, against flyte dev."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from flyte.devserver.embedded import free_port
from tests.e2e.devserver import start_dev
from tests.e2e.devserver import wait_healthy

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Five minutes with curl"


def readme_curl_block() -> str:
    """The first ``sh`` block after the walkthrough's heading, as written."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(SECTION) :]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match is not None, "the walkthrough has no sh block"
    return match.group(1)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[int]:
    port = free_port()
    process = start_dev(tmp_path, port)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the walkthrough uses curl")
def test_the_curl_walkthrough_pasted_as_one_block_ends_with_slacks_message(
    dev: int,
) -> None:
    # Only the port differs from what the user pastes: 8080 may be taken here.
    block = readme_curl_block().replace("localhost:8080", f"localhost:{dev}")
    ran = subprocess.run(
        ["sh", "-c", block], capture_output=True, text=True, timeout=90
    )
    out = ran.stdout
    assert '"status": "ok"' in out
    assert '"command": "Shell", "input": "echo hello"' in out
    assert "202\n" in out
    # The last take used to print nothing: it ran before the result was handled.
    assert (
        '"command": "SendMessage", "input": {"channel": "C1", "text": "hello"}' in out
    )
    assert out.rstrip().endswith("204"), out[-300:]
