"""Contract tests of PackStore; they run unchanged on nx-27017 or real MongoDB."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from flyte.errors import PackNotFound
from flyte.pack import CommandDef
from flyte.pack import EventDef
from flyte.pack import Link
from flyte.pack import Pack
from flyte.store import Stores

NOW = datetime(2026, 1, 2, 15, 4, 5, 123000, tzinfo=UTC)


def make_pack(name: str = "Slack", last_seen: datetime = NOW, **labels: str) -> Pack:
    return Pack(
        id=name + "".join(f".{k}.{v}" for k, v in sorted(labels.items())),
        name=name,
        last_seen=last_seen,
        labels=labels,
        commands=(
            CommandDef("SendMessage", ("MessageSent",), (Link("http://h", "help"),)),
        ),
        events=(EventDef("MessageSent"),),
        links=(Link("http://help", "help"),),
    )


def test_register_then_get_round_trips_every_field(stores: Stores) -> None:
    pack = make_pack(env="prod")
    stores.packs.register(pack)
    assert stores.packs.get("Slack.env.prod") == pack


def test_get_unknown_pack_raises_pack_not_found(stores: Stores) -> None:
    with pytest.raises(PackNotFound):
        stores.packs.get("Nope")


def test_register_again_replaces_the_whole_pack(stores: Stores) -> None:
    stores.packs.register(make_pack())
    newer = Pack(id="Slack", name="Slack", last_seen=NOW + timedelta(seconds=1))
    stores.packs.register(newer)
    assert stores.packs.get("Slack") == newer


def test_command_without_events_keeps_none(stores: Stores) -> None:
    pack = Pack(id="X", name="X", last_seen=NOW, commands=(CommandDef("Run"),))
    stores.packs.register(pack)
    assert stores.packs.get("X").commands[0].events is None


def test_list_is_sorted_by_name_without_commands_or_events(stores: Stores) -> None:
    for name in ("Slack", "Argo", "Jira"):
        stores.packs.register(make_pack(name))
    packs = stores.packs.list_packs()
    assert [p.name for p in packs] == ["Argo", "Jira", "Slack"]
    assert all(p.commands == () and p.events == () for p in packs)
    assert packs[0].last_seen == NOW


def test_list_of_empty_store_is_empty(stores: Stores) -> None:
    assert stores.packs.list_packs() == []


def test_touch_updates_last_seen_and_returns_the_pack(stores: Stores) -> None:
    stores.packs.register(make_pack())
    later = NOW + timedelta(minutes=5)
    assert stores.packs.touch("Slack", later).last_seen == later
    assert stores.packs.get("Slack").last_seen == later


def test_touch_unknown_pack_raises_pack_not_found(stores: Stores) -> None:
    with pytest.raises(PackNotFound):
        stores.packs.touch("Nope", NOW)


def test_delete_removes_the_pack(stores: Stores) -> None:
    stores.packs.register(make_pack())
    stores.packs.delete("Slack")
    with pytest.raises(PackNotFound):
        stores.packs.get("Slack")


def test_delete_unknown_pack_raises_pack_not_found(stores: Stores) -> None:
    with pytest.raises(PackNotFound):
        stores.packs.delete("Nope")


def test_delete_unseen_since_removes_only_older_packs(stores: Stores) -> None:
    stores.packs.register(make_pack("Slack", NOW))
    stores.packs.register(make_pack("Old", NOW - timedelta(days=8)))
    stores.packs.register(make_pack("Older", NOW - timedelta(days=30)))
    assert stores.packs.delete_unseen_since(NOW - timedelta(days=7)) == 2
    assert [p.name for p in stores.packs.list_packs()] == ["Slack"]
