"""Contract tests of the audit copies (AuditStore) and of events by correlation.

They run unchanged on nx-27017 or real MongoDB.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import NoReturn

import pytest
from pymongo.database import Database
from pymongo.errors import OperationFailure

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import StateChange
from flyte.audit_query import AuditQuery
from flyte.errors import Unavailable
from flyte.event import Event
from flyte.event import PackRef
from flyte.outcome import FlowOutcome
from flyte.outcome import OutcomeKind
from flyte.pack import Pack
from flyte.store import Stores
from flyte.store.actions import ActionStore
from flyte.store.audit import AuditStore
from flyte.store.events import EventStatus

T0 = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)
TRIGGER = Event("e1", "Msg", PackRef("Slack", "Slack"), T0, T0, {"text": "hi"})
SHELL = Pack(id="Shell", name="Shell", last_seen=T0)


def make_action(
    action_id: str = "a1",
    correlation: str = "c1",
    at: int = 0,
    *,
    flow: str = "f",
    step: str | None = None,
    name: str = "Run",
    pack: str = "Shell",
    **labels: str,
) -> Action:
    """A NEW action created ``at`` seconds after T0."""
    return Action(
        id=action_id,
        name=name,
        pack_name=pack,
        pack_labels=labels,
        input={"cmd": "ls"},
        correlation_id=correlation,
        flow_name=flow,
        flow_uuid="u1",
        step_id=step or action_id,
        context={"k": "v"},
        trigger=TRIGGER,
        states=(StateChange(ActionState.NEW, T0 + timedelta(seconds=at)),),
    )


def audited(stores: Stores, correlation: str = "c1") -> dict[str, Action]:
    return {a.id: a for a in stores.audit.find_by_correlation(correlation)}


def take(stores: Stores, at: int = 0) -> Action | None:
    now = T0 + timedelta(seconds=at)
    return stores.actions.take_next(SHELL, None, now, now + timedelta(minutes=10))


def result(name: str = "Output") -> Event:
    return Event("r1", name, PackRef("Shell", "Shell"), T0, T0, {"exit_code": 0})


# --- the copy follows every write of the action ------------------------------


def test_insert_copies_the_action_to_the_audit(stores: Stores) -> None:
    stores.actions.insert(make_action(env="prod"))
    assert audited(stores) == {"a1": make_action(env="prod")}


def test_insert_many_copies_every_action(stores: Stores) -> None:
    stores.actions.insert(make_action("a"))
    stores.actions.insert_many([make_action("a"), make_action("b")])
    assert audited(stores) == {"a": make_action("a"), "b": make_action("b")}


def test_take_and_finish_update_the_copy(stores: Stores) -> None:
    stores.actions.insert(make_action())
    taken = take(stores, at=1)
    assert audited(stores)["a1"] == taken
    done = stores.actions.finish(
        taken, taken.finished_with(result(), T0 + timedelta(seconds=2))
    )
    copy = audited(stores)["a1"]
    assert copy == done
    assert [s.state for s in copy.states] == ["NEW", "PENDING", "SUCCESS"]
    assert copy.result == result()


def test_an_expired_lease_updates_the_copy(stores: Stores) -> None:
    stores.actions.insert(make_action())
    taken = take(stores)
    again = taken.moved_to(ActionState.NEW, T0, lease_expires_at=None, taken_by=None)
    stores.actions.replace_if_unchanged(taken, again)
    assert audited(stores)["a1"].state is ActionState.NEW
    assert len(audited(stores)["a1"].states) == 3


def test_a_refused_write_leaves_the_copy_alone(stores: Stores) -> None:
    stores.actions.insert(make_action())
    taken = take(stores)
    stores.actions.finish(taken, taken.finished_with(result(), T0))
    with pytest.raises(Exception, match="not PENDING"):
        stores.actions.finish(taken, taken.finished_with(result("FATAL"), T0))
    assert audited(stores)["a1"].state is ActionState.SUCCESS


def test_the_copy_outlives_the_action(stores: Stores) -> None:
    stores.actions.insert(make_action())
    stores.db["action"].delete_many({})
    assert audited(stores) == {"a1": make_action()}


def test_the_copy_counts_its_retention_from_the_last_state_change(
    stores: Stores, db: Database[dict[str, Any]]
) -> None:
    stores.actions.insert(make_action())
    take(stores, at=30)
    stored = db["audit"].find_one({"_id": "a1"})
    assert stored is not None
    assert stored["storedAt"].replace(tzinfo=UTC) == T0 + timedelta(seconds=30)
    assert "queuePack" not in stored


# --- AuditStore on its own -----------------------------------------------------


def test_add_leaves_an_existing_copy_alone(stores: Stores) -> None:
    pending = make_action().moved_to(ActionState.PENDING, T0)
    stores.audit.add([pending])
    stores.audit.add([make_action(), make_action("a2")])
    assert audited(stores) == {"a1": pending, "a2": make_action("a2")}


def test_add_of_nothing_is_a_no_op(stores: Stores) -> None:
    stores.audit.add([])
    assert audited(stores) == {}


def test_update_never_goes_back_to_an_older_state(stores: Stores) -> None:
    new = make_action()
    pending = new.moved_to(ActionState.PENDING, T0)
    done = pending.moved_to(ActionState.SUCCESS, T0, result=result())
    stores.audit.add([new])
    stores.audit.update(done)
    stores.audit.update(pending)
    assert audited(stores)["a1"] == done


def test_update_writes_a_missing_copy(stores: Stores) -> None:
    pending = make_action().moved_to(ActionState.PENDING, T0)
    stores.audit.update(pending)
    assert audited(stores) == {"a1": pending}


class BrokenAudit(AuditStore):
    """An audit whose database refuses every write."""

    def add(self, actions: object) -> NoReturn:
        raise OperationFailure("disk full")

    def update(self, action: object) -> NoReturn:
        raise Unavailable("MongoDB is unavailable (the test cut it)")


def test_a_failed_audit_write_is_logged_and_never_fails_the_action(
    db: Database[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    actions = ActionStore(db, BrokenAudit(db))
    with caplog.at_level(logging.ERROR, logger="flyte.store.actions"):
        assert actions.insert(make_action()) is True
        assert actions.insert_many([make_action("a2")]) == 1
        taken = actions.take_next(SHELL, None, T0, T0 + timedelta(minutes=1))
        assert taken is not None
        done = actions.finish(taken, taken.finished_with(result(), T0))
        assert done.state is ActionState.SUCCESS
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 4
    assert all("correlation=c1" in m for m in messages)
    assert "action=a1" in messages[0] and "disk full" in messages[0]
    assert "unavailable" in messages[-1]


# --- finding executions --------------------------------------------------------


def find(stores: Stores, **query: Any) -> list[str]:
    return stores.audit.find_correlations(AuditQuery(**query))


def test_correlations_come_most_recently_active_first(stores: Stores) -> None:
    stores.actions.insert(make_action("old", "c-old", at=1))
    stores.actions.insert(make_action("late", "c-late", at=5))
    stores.actions.insert(make_action("early", "c-mid", at=2))
    stores.actions.insert(make_action("busy", "c-mid", at=3))
    assert find(stores) == ["c-late", "c-mid", "c-old"]
    # A state change is activity: taking the oldest action moves it first.
    stores.actions.insert(make_action("x", "c-x", at=4))
    assert take(stores, at=9) is not None
    assert find(stores)[0] == "c-old"


def test_ties_are_ordered_by_correlation_id(stores: Stores) -> None:
    for correlation in ("b", "c", "a"):
        stores.actions.insert(make_action(f"x{correlation}", correlation))
    assert find(stores) == ["a", "b", "c"]


def test_start_and_limit_page_through_the_correlations(stores: Stores) -> None:
    for n in range(5):
        stores.actions.insert(make_action(f"a{n}", f"c{n}", at=n))
    assert find(stores, start=0, limit=2) == ["c4", "c3"]
    assert find(stores, start=2, limit=2) == ["c2", "c1"]
    assert find(stores, start=4, limit=2) == ["c0"]
    assert find(stores, start=5, limit=2) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"flow_name": "deploy"}, ["c2", "c1"]),
        ({"step_id": "build"}, ["c3", "c1"]),
        ({"action_name": "Send"}, ["c2"]),
        ({"action_pack_name": "Slack"}, ["c2"]),
        ({"action_pack_labels": {"env": "prod"}}, ["c3", "c1"]),
        ({"action_pack_labels": {"env": "prod", "dc": "eu"}}, ["c1"]),
        ({"flow_name": "deploy", "step_id": "build"}, ["c1"]),
        ({"flow_name": "nope"}, []),
    ],
    ids=lambda value: str(value),
)
def test_filters_match_on_any_action_of_the_correlation(
    stores: Stores, query: dict[str, Any], expected: list[str]
) -> None:
    stores.actions.insert(
        make_action("a1", "c1", at=1, flow="deploy", step="build", env="prod", dc="eu")
    )
    stores.actions.insert(make_action("a2", "c1", at=2, flow="deploy", step="test"))
    stores.actions.insert(
        make_action("a3", "c2", at=3, flow="deploy", name="Send", pack="Slack")
    )
    stores.actions.insert(make_action("a4", "c3", at=4, step="build", env="prod"))
    assert find(stores, **query) == expected


def test_find_by_correlations_gives_every_action_of_each(stores: Stores) -> None:
    stores.actions.insert(make_action("a", "c1"))
    stores.actions.insert(make_action("b", "c1"))
    stores.actions.insert(make_action("c", "c2"))
    found = stores.audit.find_by_correlations(["c1", "c2", "c3"])
    assert {cid: sorted(a.id for a in actions) for cid, actions in found.items()} == {
        "c1": ["a", "b"],
        "c2": ["c"],
        "c3": [],
    }


# --- events by correlation (EventStore) ---------------------------------------


def make_event(event_id: str, at: int = 0) -> Event:
    moment = T0 + timedelta(seconds=at)
    return replace(TRIGGER, id=event_id, created_at=moment, received_at=moment)


def outcome(*correlations: str) -> list[FlowOutcome]:
    return [FlowOutcome("f", "u1", c, OutcomeKind.STARTED) for c in correlations]


def test_a_finished_event_is_found_by_each_correlation_it_touched(
    stores: Stores,
) -> None:
    stores.events.add(make_event("late", at=2), T0)
    stores.events.add(make_event("early", at=1), T0)
    stores.events.finish("late", EventStatus.PROCESSED, outcome("c1", "c2"))
    stores.events.finish("early", EventStatus.PROCESSED, outcome("c1"))
    assert [r.event.id for r in stores.events.find_by_correlation("c1")] == [
        "early",
        "late",
    ]
    found = stores.events.find_by_correlations(["c2", "c3"])
    assert {cid: [r.event.id for r in rs] for cid, rs in found.items()} == {
        "c2": ["late"],
        "c3": [],
    }
    record = stores.events.find_by_correlation("c2")[0]
    assert (record.status, record.outcomes) == (
        EventStatus.PROCESSED,
        outcome("c1", "c2"),
    )


def test_finishing_an_event_twice_links_it_once(stores: Stores) -> None:
    stores.events.add(make_event("e1"), T0)
    stores.events.finish("e1", EventStatus.PROCESSED, outcome("c1"))
    stores.events.finish("e1", EventStatus.PROCESSED, outcome("c1"))
    assert len(stores.events.find_by_correlation("c1")) == 1


def test_an_event_that_touched_nothing_is_linked_to_nothing(
    stores: Stores, db: Database[dict[str, Any]]
) -> None:
    stores.events.add(make_event("e1"), T0)
    stores.events.finish("e1", EventStatus.FAILED, [], "gave up")
    assert db["correlationEvent"].count_documents({}) == 0


def test_an_event_of_one_correlation_needs_no_link_document(
    stores: Stores, db: Database[dict[str, Any]]
) -> None:
    stores.events.add(make_event("e1"), T0)
    stores.events.finish("e1", EventStatus.PROCESSED, outcome("c1"))
    assert db["correlationEvent"].count_documents({}) == 0
    assert [r.event.id for r in stores.events.find_by_correlation("c1")] == ["e1"]


def test_an_expired_event_is_left_out(stores: Stores) -> None:
    stores.events.add(make_event("e1"), T0)
    stores.events.finish("e1", EventStatus.PROCESSED, outcome("c1"))
    stores.events.delete("e1")
    assert stores.events.find_by_correlation("c1") == []
