"""Builders of test inputs with sensible defaults."""

from __future__ import annotations

from typing import Any

#: The help link every Go flyte-client pack sends.
SLACK_HELP = "https://github.com/ExpediaGroup/flyte-slack/blob/master/README.md"


def make_pack_body(**overrides: Any) -> dict[str, Any]:
    """A registration body as the Go flyte-client sends it."""
    body: dict[str, Any] = {
        "name": "Slack",
        "events": [{"name": "MessageSent"}, {"name": "SendMessageFailed"}],
        "commands": [
            {
                "name": "SendMessage",
                "events": ["MessageSent", "SendMessageFailed"],
                "links": [{"href": "http://help/cmd", "rel": "help"}],
            }
        ],
        "links": [{"href": SLACK_HELP, "rel": "help"}],
    }
    body.update(overrides)
    return body


#: From Slack to Shell and back: `ask` fires on messages starting with "echo ".
ECHO_FLOW = {
    "name": "echo",
    "steps": [
        {
            "id": "ask",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "context": {"channel": "{{ Event.Payload.channel }}"},
            "criteria": "{{ Event.Payload.text|match:'^echo ' }}",
            "command": {
                "packName": "Shell",
                "name": "Shell",
                "input": "echo {{ Event.Payload.text|slice:'5:' }}",
            },
        },
        {
            "id": "reply",
            "dependsOn": ["ask"],
            "event": {"packName": "Shell", "name": "Output"},
            "command": {
                "packName": "Slack",
                "name": "SendMessage",
                "input": {
                    "channel": "{{ Context.channel }}",
                    "text": "{{ Event.Payload.stdout }}",
                },
            },
        },
    ],
}
