"""IdempotencyStore: which event each pack's ``Idempotency-Key`` stands for.

One document per (pack, key), in ``idempotencyKey``; its ``_id`` derives from
both, so MongoDB's unique ``_id`` makes a second claim of a key fail atomically,
whichever API process makes it. The document is written *before* the event is
stored, so a retry always finds the event id of the first attempt::

    begin (IN_FLIGHT, claimed)  ->  event stored  ->  event queued  ->  DONE

A claim whose API process died stays IN_FLIGHT; a retry takes it over once it
is older than the lease (``take_over``) and finishes the work.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from enum import StrEnum
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from flyte.clock import derived_id
from flyte.clock import from_millis
from flyte.clock import to_millis
from flyte.errors import Unavailable
from flyte.store.mongo import translate_errors
from flyte.store.retention import STORED_AT

#: The collection of idempotency keys (expired by retention, see retention.py).
COLLECTION = "idempotencyKey"
#: Tries to claim a key whose old document expires or is purged meanwhile.
_CLAIM_TRIES = 3


class KeyState(StrEnum):
    """Whether the request that first used a key has finished."""

    IN_FLIGHT = "in-flight"
    DONE = "done"


@dataclass(frozen=True)
class KeyRecord:
    """A key as stored: the event it stands for, and who is working on it."""

    id: str
    pack_id: str
    key: str
    fingerprint: str
    event_id: str
    state: KeyState
    claim: str
    claimed_at: datetime
    created_at: datetime


class IdempotencyStore:
    """Claim a pack's key for an event, atomically; take over a dead claim."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._keys = db[COLLECTION]

    @translate_errors
    def begin(self, candidate: KeyRecord, window: timedelta) -> KeyRecord:
        """Store ``candidate`` unless the key is taken; return the key's record.

        The record returned is ``candidate`` when this call claimed the key,
        else the record of the request that did. A record older than
        ``window`` counts as gone (the purge may not have run yet) and is
        replaced.
        """
        for _ in range(_CLAIM_TRIES):
            try:
                self._keys.insert_one(_document(candidate))
            except DuplicateKeyError:
                pass
            else:
                return candidate
            found = self._keys.find_one({"_id": candidate.id})
            if found is None:
                continue  # purged between the insert and the read
            if from_millis(found["createdAt"]) > candidate.created_at - window:
                return _record(found)
            self._keys.delete_one(
                {"_id": candidate.id, "createdAt": found["createdAt"]}
            )
        raise Unavailable(f"could not claim idempotency key {candidate.key!r}")

    @translate_errors
    def take_over(
        self, record: KeyRecord, claim: str, now: datetime
    ) -> KeyRecord | None:
        """Claim an IN_FLIGHT record still held as read; None if it changed."""
        updated = self._keys.update_one(
            {
                "_id": record.id,
                "state": KeyState.IN_FLIGHT.value,
                "claim": record.claim,
                "claimedAt": to_millis(record.claimed_at),
            },
            {"$set": {"claim": claim, "claimedAt": to_millis(now)}},
        )
        if updated.matched_count != 1:
            return None
        return dataclasses.replace(record, claim=claim, claimed_at=now)

    @translate_errors
    def release(self, record: KeyRecord) -> None:
        """Let a retry take over at once: the holder of the claim failed."""
        self._keys.update_one(
            {"_id": record.id, "claim": record.claim}, {"$set": {"claimedAt": 0}}
        )

    @translate_errors
    def complete(self, record: KeyRecord) -> None:
        """The event is stored and queued: a retry now answers with it at once."""
        self._keys.update_one(
            {"_id": record.id}, {"$set": {"state": KeyState.DONE.value}}
        )


def key_record_id(pack_id: str, key: str) -> str:
    """The ``_id`` of a pack's key: one document per (pack, key)."""
    return derived_id("idempotency-key", pack_id, key)


def _document(record: KeyRecord) -> dict[str, Any]:
    return {
        "_id": record.id,
        "packId": record.pack_id,
        "key": record.key,
        "fingerprint": record.fingerprint,
        "eventId": record.event_id,
        "state": record.state.value,
        "claim": record.claim,
        "claimedAt": to_millis(record.claimed_at),
        "createdAt": to_millis(record.created_at),
        # For the TTL index and the purge; written only with the whole document.
        STORED_AT: record.created_at,
    }


def _record(doc: dict[str, Any]) -> KeyRecord:
    return KeyRecord(
        id=doc["_id"],
        pack_id=doc["packId"],
        key=doc["key"],
        fingerprint=doc["fingerprint"],
        event_id=doc["eventId"],
        state=KeyState(doc["state"]),
        claim=doc["claim"],
        claimed_at=from_millis(doc["claimedAt"]),
        created_at=from_millis(doc["createdAt"]),
    )
