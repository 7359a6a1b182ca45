"""The SDK examples of docs/packs.md and the quickstart flow do what the docs say."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from flyte.sdk import Event
from flyte.sdk import Pack
from tests.live import post_flow
from tests.live import start
from tests.live import wait_for_action

ROOT = Path(__file__).resolve().parents[3]


def python_blocks(doc: str) -> list[str]:
    text = (ROOT / "docs" / doc).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


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
