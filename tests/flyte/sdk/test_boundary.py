"""The client side (SDK, CLI, example packs) stands on its own: it imports the
server only through the wire contract, and its errors join the one hierarchy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import flyte.errors
from flyte.contract.errors import FlyteError
from flyte.packs import EXAMPLES
from flyte.packs.errors import ExamplePackError
from flyte.sdk.errors import ClientError

ROOT = Path(__file__).resolve().parents[3]
#: What a pack author installs without: the server's dependencies and modules.
SERVER_ONLY = (
    "pymongo",
    "dramatiq",
    "falcon",
    "redis",
    "jinja2",
    "flyte.store",
    "flyte.engine",
    "flyte.config",
    "flyte.errors",
    "flyte.clock",
    "flyte.pack",
    "flyte.devserver",
    "api",
    "workers",
    "templates",
)
#: Imports every client module, then prints every module loaded.
IMPORT_CLIENTS = """
import importlib, json, sys
import flyte.sdk, flyte.cli, flyte.packs
for name in sys.argv[1:]:
    importlib.import_module("flyte.packs." + name)
print(json.dumps(sorted(sys.modules)))
"""


def loaded_by_the_clients() -> list[str]:
    command = [sys.executable, "-c", IMPORT_CLIENTS, *EXAMPLES]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    modules: list[str] = json.loads(done.stdout)
    return modules


def test_the_sdk_cli_and_example_packs_import_nothing_of_the_server() -> None:
    loaded = loaded_by_the_clients()
    assert "flyte.packs.shell" in loaded, "the examples were not imported"
    server = [
        module
        for module in loaded
        if any(module == top or module.startswith(top + ".") for top in SERVER_ONLY)
    ]
    assert server == []


def test_the_clients_errors_join_the_servers_one_hierarchy() -> None:
    assert flyte.errors.FlyteError is FlyteError
    assert issubclass(ClientError, flyte.errors.FlyteError)
    assert issubclass(ExamplePackError, flyte.errors.FlyteError)
    assert issubclass(flyte.errors.NotFound, FlyteError)
