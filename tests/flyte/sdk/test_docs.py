"""The Python examples of README.md and docs/ run as written and do what they say."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from flyte.devserver.embedded import free_port
from flyte.sdk import Event
from flyte.sdk import Pack
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_action

ROOT = Path(__file__).resolve().parents[3]


#: Every document with Python examples: README.md and docs/*.md.
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: Blocks that sketch a shape in Python-like notation rather than being code.
SKETCHES = {("templates.md", 1): "the template context's shape, with <any JSON>"}
#: How long the README's pack gets to register and to stop.
PACK_WAIT_SECONDS = 15.0


def python_blocks(doc: str) -> list[str]:
    """The ```python blocks of ``doc``: README.md, or a page of docs/."""
    path = ROOT / doc if doc == "README.md" else ROOT / "docs" / doc
    text = path.read_text()
    # Blocks inside list items are indented; dedent by the fence's indent.
    found = re.findall(r"^( *)```python\n(.*?)^\1```", text, flags=re.DOTALL | re.M)
    return [re.sub(rf"(?m)^{indent}", "", block) for indent, block in found]


def every_block() -> list[tuple[str, int]]:
    """(document, index) of every Python example in README.md and docs/."""
    return [
        (path.name, index)
        for path in DOCS
        for index in range(len(python_blocks(path.name)))
    ]


@pytest.mark.parametrize(("doc", "index"), every_block())
def test_every_python_example_compiles_and_its_imports_exist(
    doc: str, index: int
) -> None:
    block = python_blocks(doc)[index]
    if (doc, index) not in SKETCHES:
        compile(block, f"{doc} example {index}", "exec")
    imports = [
        line for line in block.splitlines() if line.startswith(("from ", "import "))
    ]
    exec("\n".join(imports), {})  # noqa: S102 - our own doc's import lines


def test_the_sketches_left_uncompiled_are_still_in_the_docs() -> None:
    for doc, index in SKETCHES:
        assert "<any JSON>" in python_blocks(doc)[index]


def test_the_readme_greeter_runs_as_written_and_says_where_it_registers(
    live_api: str, tmp_path: Path
) -> None:
    with run_readme_greeter(live_api, tmp_path) as pack:
        log = read_until(pack, "registered as Greeter")
        log += stop(pack)
    assert pack.returncode == 0, log
    assert f"Pack Greeter starting against {live_api}" in log
    assert "Traceback" not in log


def test_two_readme_greeters_on_one_host_do_not_collide(
    live_api: str, tmp_path: Path
) -> None:
    with (
        run_readme_greeter(live_api, tmp_path, FLYTE_LABELS="n=1") as first,
        run_readme_greeter(live_api, tmp_path, FLYTE_LABELS="n=2") as second,
    ):
        logs = [
            read_until(first, "registered as Greeter.n.1"),
            read_until(second, "registered as Greeter.n.2"),
        ]
        logs = [logs[0] + stop(first), logs[1] + stop(second)]
    for log in logs:
        assert "WARNING" not in log, log
        assert "health" not in log, log


def test_a_named_health_port_answers_a_probe_in_the_go_shape(
    live_api: str, tmp_path: Path
) -> None:
    port = free_port()
    environ = {"FLYTE_PACK_HEALTH_PORT": str(port)}
    with run_readme_greeter(live_api, tmp_path, **environ) as pack:
        log = read_until(pack, "registered as Greeter")
        answer = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        log += stop(pack)
    assert f"Pack Greeter health on port {port}" in log
    assert answer.status_code == 200, answer.text
    assert set(answer.json()) == {"FlyteApi", "Registration", "ActionPolling"}
    assert answer.json()["Registration"]["healthy"] is True


@contextmanager
def run_readme_greeter(
    api: str, tmp_path: Path, **environ: str
) -> Iterator[subprocess.Popen[str]]:
    """The README's example, as written, run as a script against ``api``."""
    [example] = python_blocks("README.md")
    script = tmp_path / "greeter.py"
    script.write_text(example)
    env = {**os.environ, "FLYTE_API": api, **environ}
    for name in ("FLYTE_LABELS", "FLYTE_PACK_HEALTH_PORT"):
        if name not in environ:
            env.pop(name, None)
    with subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    ) as pack:
        try:
            yield pack
        finally:
            if pack.poll() is None:
                pack.kill()


def stop(pack: subprocess.Popen[str]) -> str:
    """Ctrl-C the pack; the rest of its log."""
    pack.send_signal(signal.SIGINT)
    _, rest = pack.communicate(timeout=PACK_WAIT_SECONDS)
    return rest


def read_until(process: subprocess.Popen[str], wanted: str) -> str:
    """The lines of ``process``'s stderr up to one containing ``wanted``."""
    assert process.stderr is not None
    deadline = time.monotonic() + PACK_WAIT_SECONDS
    lines: list[str] = []
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        lines.append(line)
        if wanted in line:
            return "".join(lines)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError(f"no {wanted!r} in the pack's log:\n{''.join(lines)}")


def load_greeter() -> Pack:
    namespace: dict[str, Any] = {"__name__": "greeter"}
    exec(python_blocks("packs.md")[0], namespace)  # noqa: S102 - our own doc
    pack = namespace["pack"]
    assert isinstance(pack, Pack)
    return pack


def test_the_greeter_of_the_packs_doc_defines_what_the_doc_says() -> None:
    pack = load_greeter()
    greet = pack.commands["Greet"].handler
    assert greet({"name": "ana"}) == Event("Greeted", {"greeting": "Hello, ana!"})
    assert greet("ana") == Event("GreetFailed", {"error": "give {name}"})
    assert pack.definition({"env": "dev"}) == {
        "name": "Greeter",
        "labels": {"env": "dev"},
        "links": [{"href": "https://wiki.example.com/greeter", "rel": "help"}],
        "events": [{"name": "Joined"}, {"name": "Greeted"}, {"name": "GreetFailed"}],
        "commands": [{"name": "Greet", "events": ["Greeted", "GreetFailed"]}],
    }


def test_the_greeter_greets_through_a_flow_using_the_docs_command(
    live_api: str,
) -> None:
    doc = (ROOT / "docs" / "packs.md").read_text()
    found = re.search(r"```yaml\n(command:.*?)```", doc, flags=re.DOTALL)
    assert found, "docs/packs.md lost its command example"
    command = yaml.safe_load(found[1])["command"]
    joined = {"packName": "Greeter", "name": "Joined"}
    flow = {
        "name": "greet",
        "steps": [{"id": "greet", "event": joined, "command": command}],
    }
    post_flow(live_api, flow)
    pack = load_greeter()
    pack.polling_interval = 0.5  # the doc's 5 s would only slow the test
    runner = start(pack, live_api)
    try:
        runner.send_event("Joined", {"user": {"name": "ana"}})
        action = wait_for_action(live_api, "greet", "greet")
    finally:
        runner.stop()
    assert action["result"]["payload"] == {"greeting": "Hello, ana!"}
