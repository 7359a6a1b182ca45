"""A pack's definition: the registration body upstream's server accepts."""

from __future__ import annotations

import pytest

from flyte.sdk import Event
from flyte.sdk import EventDef
from flyte.sdk import Pack


def echo(value: object) -> Event:
    return Event("Echoed", value)


def test_the_definition_has_upstreams_shape_with_events_deduplicated() -> None:
    pack = Pack(
        "Slack",
        help_url="https://help/slack",
        labels={"env": "prod"},
        events=["ReceivedMessage", EventDef("MessageSent", help_url="https://h/sent")],
    )
    pack.add_command(
        "SendMessage",
        echo,
        events=["MessageSent", "SendMessageFailed"],
        help_url="https://help/cmd",
    )
    assert pack.definition() == {
        "name": "Slack",
        "labels": {"env": "prod"},
        "links": [{"href": "https://help/slack", "rel": "help"}],
        "events": [
            {"name": "ReceivedMessage"},
            {
                "name": "MessageSent",
                "links": [{"href": "https://h/sent", "rel": "help"}],
            },
            {"name": "SendMessageFailed"},
        ],
        "commands": [
            {
                "name": "SendMessage",
                "events": ["MessageSent", "SendMessageFailed"],
                "links": [{"href": "https://help/cmd", "rel": "help"}],
            }
        ],
    }


def test_a_bare_pack_sends_only_its_name() -> None:
    assert Pack("Bare").definition() == {"name": "Bare"}


def test_labels_from_the_environment_add_to_and_override_the_packs() -> None:
    pack = Pack("Shell", labels={"env": "dev", "team": "ops"})
    assert pack.definition({"env": "prod"})["labels"] == {"env": "prod", "team": "ops"}


def test_the_command_decorator_declares_the_command_and_keeps_the_function() -> None:
    pack = Pack("Echo")

    @pack.command("Echo", events=["Echoed"])
    def handler(value: object) -> Event:
        return Event("Echoed", value)

    assert pack.commands["Echo"].handler is handler
    assert handler("x") == Event("Echoed", "x")


def test_a_command_declared_twice_is_refused() -> None:
    pack = Pack("Echo")
    pack.add_command("Echo", echo, events=[])
    with pytest.raises(ValueError, match="twice"):
        pack.add_command("Echo", echo, events=[])


def test_the_polling_interval_has_upstreams_floor_of_half_a_second() -> None:
    assert Pack("Fast", polling_interval=0.01).polling_interval == 0.5
    assert Pack("Slow", polling_interval=7).polling_interval == 7


def test_a_pack_needs_a_name_and_at_least_one_handler_slot() -> None:
    with pytest.raises(ValueError, match="name"):
        Pack("")
    with pytest.raises(ValueError, match="max_concurrent_actions"):
        Pack("P", max_concurrent_actions=0)
