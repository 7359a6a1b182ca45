"""The SDK examples of docs/packs.md and the quickstart flow do what the docs say."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from flyte.sdk import ClientConfig
from flyte.sdk import Event
from flyte.sdk import Pack

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
    flow = {
        "name": "greet",
        "steps": [
            {
                "id": "greet",
                "event": {"packName": "Greeter", "name": "Joined"},
                "command": command,
            }
        ],
    }
    assert httpx.post(f"{live_api}/v1/flows", json=flow).status_code == 201
    pack = load_greeter()
    pack.polling_interval = 0.5  # the doc's 5 s would only slow the test
    runner = pack.start(ClientConfig(api_url=live_api, health_port=0))
    try:
        runner.send_event("Joined", {"user": {"name": "ana"}})
        deadline = time.monotonic() + 10
        while True:
            body = httpx.get(f"{live_api}/v1/audit/flows?flowName=greet").json()
            actions = [a for f in body["flows"] for a in f["actions"].values()]
            if actions and actions[0]["state"]["value"] == "SUCCESS":
                break
            assert time.monotonic() < deadline, actions
            time.sleep(0.05)
    finally:
        runner.stop()
    assert actions[0]["result"]["payload"] == {"greeting": "Hello, ana!"}
