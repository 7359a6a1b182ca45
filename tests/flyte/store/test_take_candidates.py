"""TakeCandidates: one read of a queue shared by a process's concurrent takes."""

from __future__ import annotations

from typing import Any

from flyte.store.take_candidates import MAX_READ
from flyte.store.take_candidates import MIN_READ
from flyte.store.take_candidates import TakeCandidates

Doc = dict[str, Any]


class Reads:
    """A queue's waiting documents, counting how often (and how many) are read."""

    def __init__(self, *ids: str) -> None:
        self.docs: list[Doc] = [{"_id": i} for i in ids]
        self.count = 0
        self.limits: list[int] = []

    def __call__(self, limit: int) -> list[Doc]:
        self.count += 1
        self.limits.append(limit)
        return self.docs[:limit]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def fits_all(doc: Doc) -> bool:
    return True


def test_takes_claim_the_oldest_candidates_in_turn_from_one_read() -> None:
    candidates = TakeCandidates(clock=Clock())
    reads = Reads("a", "b", "c")
    claimed = [candidates.claim("q", fits_all, reads).doc for _ in range(3)]
    assert claimed == [{"_id": "a"}, {"_id": "b"}, {"_id": "c"}]
    assert reads.count == 1


def test_an_empty_buffer_is_read_again() -> None:
    candidates = TakeCandidates(clock=Clock())
    reads = Reads("a")
    assert candidates.claim("q", fits_all, reads).doc == {"_id": "a"}
    reads.docs = []
    assert candidates.claim("q", fits_all, reads).doc is None
    assert reads.count == 2


def test_a_stale_buffer_is_read_again_so_an_older_action_goes_first() -> None:
    clock = Clock()
    candidates = TakeCandidates(max_age=0.1, clock=clock)
    reads = Reads("b", "c")
    assert candidates.claim("q", fits_all, reads).doc == {"_id": "b"}
    reads.docs = [{"_id": "a"}, {"_id": "c"}]
    clock.now = 0.2
    assert candidates.claim("q", fits_all, reads).doc == {"_id": "a"}


def test_a_claimed_candidate_is_left_out_of_a_new_read_until_released() -> None:
    clock = Clock()
    candidates = TakeCandidates(max_age=0.1, clock=clock)
    reads = Reads("a", "b")
    assert candidates.claim("q", fits_all, reads).doc == {"_id": "a"}
    clock.now = 1.0
    # Still NEW in the database while its take is in flight.
    assert candidates.claim("q", fits_all, reads).doc == {"_id": "b"}
    candidates.release("q", "a")
    clock.now = 2.0
    assert candidates.claim("q", fits_all, reads).doc == {"_id": "a"}


def test_candidates_that_do_not_fit_stay_for_others() -> None:
    candidates = TakeCandidates(clock=Clock())
    reads = Reads("labelled", "plain")
    only_plain = candidates.claim("q", lambda d: d["_id"] == "plain", reads)
    assert only_plain.doc == {"_id": "plain"}
    nothing = candidates.claim("q", lambda d: d["_id"] == "plain", reads)
    assert (nothing.doc, nothing.others_left) == (None, True)
    assert candidates.claim("q", fits_all, reads).doc == {"_id": "labelled"}


def test_queues_have_buffers_of_their_own() -> None:
    candidates = TakeCandidates(clock=Clock())
    assert candidates.claim("q1", fits_all, Reads("a")).doc == {"_id": "a"}
    assert candidates.claim("q2", fits_all, Reads("x")).doc == {"_id": "x"}


def test_a_lone_take_reads_few_and_concurrent_takes_read_more() -> None:
    clock = Clock()
    candidates = TakeCandidates(max_age=0.1, clock=clock)
    reads = Reads(*(f"a{n:02d}" for n in range(40)))
    candidates.claim("q", fits_all, reads)
    assert reads.limits == [MIN_READ]
    # Eight takes in flight (claimed, not released yet): the next read is larger.
    for _ in range(7):
        candidates.claim("q", fits_all, reads)
    clock.now = 1.0
    candidates.claim("q", fits_all, reads)
    assert reads.limits[-1] == MAX_READ
