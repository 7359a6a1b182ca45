"""The SDK installs on its own: ``pip install <checkout>``, without the server
extra, in a fresh virtualenv gives a pack that runs a flow's action against
``flyte dev``.

The install is not editable and comes from a copy of the source tree, so it is
what a pack author gets (and leaves no ``build/`` behind in the checkout). pip
fetches the few client dependencies from its index or cache.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import venv
from pathlib import Path
from typing import Any

import httpx
import pytest

from flyte.devserver.embedded import free_port
from tests.e2e.devserver import STOP_WITHIN
from tests.e2e.devserver import start_dev
from tests.e2e.devserver import wait_healthy
from tests.live import wait_for_action

ROOT = Path(__file__).resolve().parents[2]
#: What the distribution is built from (pyproject.toml's packages and readme).
SOURCES = ("pyproject.toml", "README.md", "flyte", "api", "workers", "templates")
#: Server dependencies a pack author must not get.
SERVER_ONLY = ("pymongo", "dramatiq", "falcon", "redis", "jinja2")
#: A flow whose one step makes the Shell pack run a script.
FLOW = """\
name: sdk_install
steps:
  - id: greet
    event: {packName: Starter, name: Go}
    command:
      packName: Shell
      name: Shell
      input: "echo hello from {{ Event.Payload.who }}"
"""
INSTALL_WITHIN = 300.0
REGISTERED_WITHIN = 20.0


def copy_sources(target: Path) -> Path:
    """The files the distribution is built from, without caches."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    target.mkdir()
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


def install_sdk(tmp_path: Path) -> Path:
    """A fresh virtualenv with ``pip install <source>`` (no extras); its bin dir."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    source = copy_sources(tmp_path / "source")
    command = [str(bin_dir / "python"), "-m", "pip", "install", "-q"]
    command += ["--disable-pip-version-check", str(source)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=INSTALL_WITHIN
    )
    assert done.returncode == 0, done.stderr
    return bin_dir


def run_in(
    bin_dir: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    """Run a program of the virtualenv outside the checkout, so only it is found."""
    return subprocess.run(
        [str(bin_dir / args[0]), *args[1:]],
        env=env,
        cwd=bin_dir.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def wait_registered(api: str, pack_id: str) -> None:
    deadline = time.monotonic() + REGISTERED_WITHIN
    while httpx.get(f"{api}/v1/packs/{pack_id}", timeout=5).status_code != 200:
        assert time.monotonic() < deadline, f"{pack_id} did not register"
        time.sleep(0.1)


def assert_alone(bin_dir: Path, env: dict[str, str], venv_dir: Path) -> None:
    """The virtualenv has flyte, none of the server's dependencies, and says so."""
    for module in SERVER_ONLY:
        imported = run_in(bin_dir, env, "python", "-c", f"import {module}")
        assert imported.returncode != 0, f"{module} was installed with the SDK"
    where = run_in(bin_dir, env, "python", "-c", "import flyte; print(flyte.__file__)")
    assert where.stdout.startswith(str(venv_dir)), where.stdout
    # flyte dev names the extra it needs instead of failing with a traceback.
    dev_alone = run_in(bin_dir, env, "flyte", "dev")
    assert dev_alone.returncode == 2, dev_alone.stderr
    assert "[server]" in dev_alone.stderr
    assert "Traceback" not in dev_alone.stderr


def run_shell_pack(bin_dir: Path, env: dict[str, str], log: Path) -> dict[str, Any]:
    """Start the Shell pack, send the flow's event with the CLI: the action done."""
    with log.open("wb") as out:
        shell = subprocess.Popen(
            [str(bin_dir / "flyte"), "pack", "run", "shell"],
            env=env,
            cwd=bin_dir.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_registered(env["FLYTE_API"], "Shell")
        payload = '{"who": "the sdk"}'
        send = ("flyte", "events", "send", "Starter", "Go", "--register")
        send = (*send, "--payload", payload)
        sent = run_in(bin_dir, env, *send)
        assert sent.returncode == 0, sent.stderr
        action = wait_for_action(env["FLYTE_API"], "sdk_install", "greet")
    finally:
        shell.send_signal(signal.SIGTERM)
        stopped = shell.wait(timeout=STOP_WITHIN)
    assert stopped == 0, log.read_text()
    return action


@pytest.mark.slow
def test_the_sdk_alone_installs_and_its_shell_pack_runs_an_action(
    tmp_path: Path,
) -> None:
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    (tmp_path / "dev").mkdir()
    dev = start_dev(tmp_path / "dev", port)
    try:
        # Given the SDK installed alone, while flyte dev starts from the checkout
        bin_dir = install_sdk(tmp_path)
        wait_healthy(api, dev)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(FLYTE_API=api, FLYTE_POLLING_INTERVAL="0.5")
        env.update(FLYTE_PACK_HEALTH_PORT="0")
        # Then the server's dependencies did not come with it
        assert_alone(bin_dir, env, tmp_path / "venv")
        # When its CLI applies a flow and its Shell pack runs the flow's action
        (tmp_path / "flow.yaml").write_text(FLOW)
        flow_file = str(tmp_path / "flow.yaml")
        applied = run_in(bin_dir, env, "flyte", "flows", "apply", flow_file)
        assert applied.returncode == 0, applied.stderr
        action = run_shell_pack(bin_dir, env, tmp_path / "shell.log")
        # Then the action succeeded with the script's output
        assert action["state"]["value"] == "SUCCESS", action
        assert action["result"]["payload"]["stdout"] == "hello from the sdk\n"
    finally:
        os.kill(dev.pid, signal.SIGTERM)
        dev.wait(timeout=STOP_WITHIN)
