"""Contract tests of the console's bounded reads; they run on nx-27017 or MongoDB."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

from pymongo.database import Database

from flyte.event import Event
from flyte.event import PackRef
from flyte.store import Stores
from flyte.store.browse import Browse
from flyte.store.browse import EventFilter
from flyte.store.events import EventStatus
from flyte.store.paging import count
from flyte.store.paging import steered

T0 = datetime(2026, 1, 2, 15, 4, 5, tzinfo=UTC)


def store_events(stores: Stores, packs: list[str]) -> None:
    """One event per entry of ``packs``, a second apart, the last the newest."""
    for n, pack in enumerate(packs):
        event = Event(f"e{n:02d}", "Msg", PackRef(pack, pack), T0, T0, {"n": n})
        stores.events.add(event, T0 + timedelta(seconds=n))
        received = T0 + timedelta(seconds=n)
        stores.db["event"].update_one(
            {"_id": event.id}, {"$set": {"event.receivedAt": _ms(received)}}
        )
        if n % 2:
            stores.events.finish(event.id, EventStatus.PROCESSED, [])


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def ids(db: Database[dict[str, Any]], match: dict[str, Any] | None) -> list[str]:
    assert match is not None
    cursor = db["event"].find(match, {"_id": 1}).sort("event.receivedAt", -1)
    return [doc["_id"] for doc in cursor]


def test_both_plans_of_a_filter_find_the_same_events(stores: Stores) -> None:
    store_events(stores, ["A"] * 11 + ["B"])
    equalities = {"event.pack.name": "A"}
    # Nearly everything matches: a one-row page walks the time index, while a
    # page as deep as the matches reads them by index and sorts them.
    walked = steered(stores.db["event"], equalities, {}, depth=1)
    by_index = steered(stores.db["event"], equalities, {}, depth=12)
    assert walked == {"event.pack.name": {"$in": ["A"]}}
    assert by_index == {"event.pack.name": "A"}
    expected = [f"e{n:02d}" for n in range(10, -1, -1)]
    assert ids(stores.db, walked) == ids(stores.db, by_index) == expected


def test_a_filter_nothing_matches_is_answered_without_a_query(stores: Stores) -> None:
    store_events(stores, ["A"])
    assert steered(stores.db["event"], {"event.pack.name": "Z"}, {}, depth=1) is None


def test_events_page_newest_first_with_filters(stores: Stores) -> None:
    store_events(stores, ["A", "B", "A", "A", "B", "A"])
    browse = Browse(stores.db)
    first = browse.events(EventFilter(pack_name="A"), offset=0, limit=3)
    assert [r.event.id for r in first.items] == ["e05", "e03", "e02"]
    assert first.next_offset == 3
    rest = browse.events(EventFilter(pack_name="A"), offset=3, limit=3)
    assert [r.event.id for r in rest.items] == ["e00"]
    assert rest.next_offset is None
    window = EventFilter(
        since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=3)
    )
    assert [r.event.id for r in browse.events(window, 0, 10).items] == ["e02", "e01"]


def test_event_counts_by_status_add_up(stores: Stores) -> None:
    store_events(stores, ["A", "B", "A"])
    counts = Browse(stores.db).count_events(T0)
    assert counts == {"pending": 2, "discarded": 0, "failed": 0, "processed": 1}
    assert count(stores.db["event"], {}) == 3
