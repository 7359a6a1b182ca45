"""Contract tests of ActionStore; they run unchanged on nx-27017 or real MongoDB."""

from __future__ import annotations

import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.errors import ActionNotFound
from flyte.errors import ActionNotPending
from flyte.event import Event
from flyte.event import PackRef
from flyte.pack import Pack
from flyte.store import Stores

T0 = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
TRIGGER = Event("e1", "Msg", PackRef("Slack", "Slack"), T0, T0, {"text": "hi"})


def make_action(
    action_id: str = "a1",
    name: str = "Run",
    pack: str = "Shell",
    created: datetime = T0,
    **labels: str,
) -> Action:
    return Action(
        id=action_id,
        name=name,
        pack_name=pack,
        pack_labels=labels,
        input={"cmd": "ls", "n": [1, None]},
        correlation_id="c1",
        flow_name="f",
        flow_uuid="u1",
        step_id=action_id,
        context={"k": "v"},
        trigger=TRIGGER,
        states=(StateChange(ActionState.NEW, created),),
    )


def shell(**labels: str) -> Pack:
    return Pack(id="Shell", name="Shell", last_seen=T0, labels=labels)


def take(stores: Stores, pack: Pack, command: str | None = None) -> Action | None:
    return stores.actions.take_next(pack, command, T0, T0 + timedelta(minutes=10))


def result(name: str = "Output") -> Event:
    return Event("r1", name, PackRef("Shell", "Shell"), T0, T0, {"exit_code": 0})


def test_insert_then_get_round_trips_every_field(stores: Stores) -> None:
    action = make_action(env="prod")
    assert stores.actions.insert(action) is True
    assert stores.actions.get("a1") == action


def test_inserting_the_same_id_again_is_refused(stores: Stores) -> None:
    stores.actions.insert(make_action())
    assert stores.actions.insert(make_action()) is False


def test_insert_many_stores_the_new_and_skips_existing_ids(stores: Stores) -> None:
    stores.actions.insert(make_action("a"))
    count = stores.actions.insert_many(
        [make_action("a"), make_action("b"), make_action("c")]
    )
    assert count == 2
    assert stores.actions.get("c") == make_action("c")


def test_get_unknown_action_raises_action_not_found(stores: Stores) -> None:
    with pytest.raises(ActionNotFound):
        stores.actions.get("nope")


def test_take_moves_the_oldest_new_action_to_pending(stores: Stores) -> None:
    stores.actions.insert(make_action("late", created=T0 + timedelta(seconds=5)))
    stores.actions.insert(make_action("early", created=T0))
    taken = take(stores, shell())
    assert taken is not None and taken.id == "early"
    assert [s.state for s in taken.states] == [ActionState.NEW, ActionState.PENDING]
    assert taken.attempts == 1
    assert taken.lease_expires_at == T0 + timedelta(minutes=10)
    assert taken.taken_by == PackRef("Shell", "Shell", {})
    assert stores.actions.get("early") == taken
    assert take(stores, shell()).id == "late"
    assert take(stores, shell()) is None


def test_take_filters_by_command_name(stores: Stores) -> None:
    stores.actions.insert(make_action("a", name="Run"))
    stores.actions.insert(make_action("b", name="Other", created=T0 + timedelta(1)))
    assert take(stores, shell(), "Other").id == "b"
    assert take(stores, shell(), "Other") is None


def test_take_needs_the_actions_labels_on_the_pack(stores: Stores) -> None:
    stores.actions.insert(make_action("staging", env="staging"))
    stores.actions.insert(make_action("any", created=T0 + timedelta(seconds=1)))
    assert take(stores, shell(env="prod")).id == "any"
    assert take(stores, shell(env="prod")) is None
    assert take(stores, shell(env="staging", x="y")).id == "staging"


def test_a_skipped_labelled_action_leaves_the_order_of_the_rest(
    stores: Stores,
) -> None:
    stores.actions.insert(make_action("staging", env="staging"))
    for n in range(4):
        stores.actions.insert(make_action(f"a{n}", created=T0 + timedelta(seconds=n)))
    taken = [take(stores, shell(env="prod")) for _ in range(4)]
    assert [a.id for a in taken if a is not None] == ["a0", "a1", "a2", "a3"]


def test_concurrent_takers_each_get_a_different_action(stores: Stores) -> None:
    count = 24
    for n in range(count):
        stores.actions.insert(make_action(f"a{n}", created=T0 + timedelta(seconds=n)))
    taken: list[str] = []

    def taker() -> None:
        while (action := take(stores, shell())) is not None:
            taken.append(action.id)

    threads = [threading.Thread(target=taker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == sorted(f"a{n}" for n in range(count))


def test_names_with_separators_never_match_another_queue(stores: Stores) -> None:
    stores.actions.insert(make_action("odd", name="Run|x}"))
    stores.actions.insert(make_action("other", pack="Shell|1"))
    assert take(stores, shell(), "Run") is None
    assert take(stores, shell(), "Run|x}").id == "odd"
    assert take(stores, shell()) is None


def test_take_ignores_other_packs(stores: Stores) -> None:
    stores.actions.insert(make_action(pack="Slack"))
    assert take(stores, shell()) is None


def test_finish_records_success_and_the_result(stores: Stores) -> None:
    stores.actions.insert(make_action())
    taken = take(stores, shell())
    done = stores.actions.finish(
        taken, taken.finished_with(result(), T0 + timedelta(seconds=3))
    )
    assert done.last_change == StateChange(
        ActionState.SUCCESS, T0 + timedelta(seconds=3)
    )
    assert [s.state for s in done.states] == ["NEW", "PENDING", "SUCCESS"]
    assert done.result == result()
    assert done.lease_expires_at is None
    assert stores.actions.get("a1") == done


def test_a_fatal_event_finishes_as_fatal(stores: Stores) -> None:
    stores.actions.insert(make_action())
    taken = take(stores, shell())
    done = stores.actions.finish(taken, taken.finished_with(result("FATAL"), T0))
    assert done.state is ActionState.FATAL
    assert stores.actions.get("a1").state is ActionState.FATAL


@pytest.mark.parametrize("taken", [False, True], ids=["never-taken", "finished-twice"])
def test_finish_of_a_non_pending_action_is_a_conflict(
    stores: Stores, taken: bool
) -> None:
    stores.actions.insert(make_action())
    if taken:
        pending = take(stores, shell())
        stores.actions.finish(pending, pending.finished_with(result(), T0))
    action = stores.actions.get("a1")
    with pytest.raises(ActionNotPending):
        stores.actions.finish(action, action.finished_with(result(), T0))


def test_another_packs_action_is_not_found_for_it(stores: Stores) -> None:
    stores.actions.insert(make_action(env="prod"))
    assert stores.actions.get_for_pack("a1", shell(env="prod", x="y")).id == "a1"
    with pytest.raises(ActionNotFound):
        stores.actions.get_for_pack("a1", shell(env="dev"))
    other = Pack(id="Slack", name="Slack", last_seen=T0)
    with pytest.raises(ActionNotFound):
        stores.actions.get_for_pack("a1", other)


def test_finish_of_a_stale_copy_is_a_conflict(stores: Stores) -> None:
    stores.actions.insert(make_action())
    stale = take(stores, shell())
    again = stale.moved_to(ActionState.NEW, T0, lease_expires_at=None, taken_by=None)
    stores.actions.replace_if_unchanged(stale, again)
    take(stores, shell())
    with pytest.raises(ActionNotPending, match="changed meanwhile"):
        stores.actions.finish(stale, stale.finished_with(result(), T0))


def test_find_by_correlation_returns_every_action_of_it(stores: Stores) -> None:
    stores.actions.insert(make_action("a"))
    stores.actions.insert(make_action("b"))
    assert {a.id for a in stores.actions.find_by_correlation("c1")} == {"a", "b"}
    assert stores.actions.find_by_correlation("other") == []


def test_find_expired_leases_sees_only_expired_pending_actions(stores: Stores) -> None:
    stores.actions.insert(make_action("a"))
    stores.actions.insert(make_action("b", created=T0 + timedelta(seconds=1)))
    take(stores, shell())
    assert stores.actions.find_expired_leases(T0 + timedelta(minutes=5)) == []
    [expired] = stores.actions.find_expired_leases(T0 + timedelta(minutes=11))
    assert expired.id == "a"


def test_replace_if_unchanged_refuses_a_stale_copy(stores: Stores) -> None:
    stores.actions.insert(make_action())
    before = take(stores, shell())
    again = before.moved_to(ActionState.NEW, T0, lease_expires_at=None, taken_by=None)
    assert stores.actions.replace_if_unchanged(before, again) == again
    assert stores.actions.replace_if_unchanged(before, again) is None
    assert take(stores, shell()).attempts == 2
