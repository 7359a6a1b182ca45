"""ActionStore: the ``action`` collection; every state change is atomic.

An action whose rendering revealed a datastore secret (``Action.secret``) is
stored with its input, context and pack labels masked, and the real ones in
``sealed``: a Fernet token (flyte/secrets.py, under FLYTE_SECRETS_KEY) of their
JSON. Every read here decrypts it, so the engine, the lease expiry and the pack
that takes the action see the values in full; the console, which reads the
collection directly, sees the masks. Other actions are stored as they always were.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from typing import Any

from pymongo import ASCENDING
from pymongo import InsertOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError
from pymongo.errors import PyMongoError

from flyte.action import Action
from flyte.action import ActionState
from flyte.action import labels_satisfy
from flyte.clock import to_millis
from flyte.errors import ActionNotFound
from flyte.errors import ActionNotPending
from flyte.errors import FlyteError
from flyte.masking import MASK
from flyte.metrics import Metrics
from flyte.metrics import get_metrics
from flyte.pack import Pack
from flyte.secrets import KEY_SETTING
from flyte.secrets import SecretBox
from flyte.secrets import SecretsUnavailable
from flyte.store.audit import AuditStore
from flyte.store.batching import WriteBatcher
from flyte.store.batching import is_duplicate
from flyte.store.batching import raise_unexpected
from flyte.store.mongo import translate_errors
from flyte.store.retention import STORED_AT
from flyte.store.take_candidates import TakeCandidates

logger = logging.getLogger(__name__)

#: How many queued actions a take reads from the server at a time, when the
#: shared candidates hold none the pack may take.
TAKE_BATCH = 5


@dataclass(frozen=True)
class Queue:
    """Where a take looks: the indexed queue field, and the prefix of its keys."""

    field: str
    prefix: str


#: The field holding a secret action's encrypted fields.
SEALED = "sealed"
#: The fields of a secret action kept encrypted (rendered, so may hold a secret).
SEALED_FIELDS = ("input", "context", "packLabels")


def queue_prefixes(pack_name: str, command_name: str) -> dict[str, str]:
    """Per queue field, the prefix shared by every NEW action of a pack (or command).

    Names are length-prefixed, so no pack or command name can pose as another.
    """
    pack_key = f"{len(pack_name)}:{pack_name}"
    return {
        "queuePack": pack_key,
        "queueCommand": f"{pack_key}/{len(command_name)}:{command_name}",
    }


def queue_fields(action: Action) -> dict[str, str]:
    """The indexed fields under which a NEW action waits, in take order.

    Each is ``prefix|creation time|id``: a take reads a range of one single-field
    index, already sorted oldest first, so its cost does not grow with the
    backlog. (Scalars, not one array: nx-27017 answers an equality on an indexed
    array field with nothing and an ``$in`` with a full scan; and it sorts on
    another field than the filtered one by reading every match.)
    """
    order = f"|{to_millis(action.states[0].time):015d}|{action.id}"
    prefixes = queue_prefixes(action.pack_name, action.name)
    return {field: prefix + order for field, prefix in prefixes.items()}


class ActionStore:
    """Create, take, finish, expire and look up actions."""

    def __init__(
        self,
        db: Database[dict[str, Any]],
        audit: AuditStore | None = None,
        metrics: Metrics | None = None,
        *,
        secrets: SecretBox | None = None,
    ) -> None:
        self._actions = db["action"]
        # Concurrent workers' new actions go together.
        self._inserts = WriteBatcher(self._actions)
        self._secrets = secrets
        self._audit = AuditStore(db) if audit is None else audit
        self._candidates = TakeCandidates()
        # Every state change passes through here: the one place to count them.
        self._metrics = metrics or get_metrics()

    @translate_errors
    def insert(self, action: Action) -> bool:
        """Store a new action; False if one with this id exists (a redelivery)."""
        [error] = self._inserts.write([InsertOne(self._stored(action))])
        if is_duplicate(error):
            return False
        raise_unexpected([error])
        self._metrics.action_created(action)
        self._copy_to_audit([action], new=True)
        return True

    @translate_errors
    def insert_many(self, actions: list[Action]) -> int:
        """Store new actions in one round trip; return how many were new."""
        try:
            result = self._actions.insert_many(
                [self._stored(a) for a in actions], ordered=False
            )
            count = len(result.inserted_ids)
        except BulkWriteError as ex:
            count = int(ex.details.get("nInserted", 0))
        self._copy_to_audit(actions, new=True)
        return count

    @translate_errors
    def get(self, action_id: str) -> Action:
        """The action, or raise ActionNotFound."""
        doc = self._actions.find_one({"_id": action_id})
        if doc is None:
            raise ActionNotFound(action_id)
        return self._action(doc)

    @translate_errors
    def find_by_correlation(self, correlation_id: str) -> list[Action]:
        """Every action of one correlation (flow execution)."""
        cursor = self._actions.find({"correlationId": correlation_id})
        return [self._action(doc) for doc in cursor]

    @translate_errors
    def take_next(
        self, pack: Pack, command: str | None, now: datetime, lease_until: datetime
    ) -> Action | None:
        """Atomically move the oldest takeable NEW action to PENDING, or return None.

        Takeable: the pack's name, the command if one is named, and packLabels
        that are a subset of the pack's labels. A take that loses a race moves on
        to the next candidate instead of failing.
        """
        field = "queueCommand" if command else "queuePack"
        prefix = queue_prefixes(pack.name, command or "")[field]
        queue = Queue(field, prefix)

        def fits(doc: dict[str, Any]) -> bool:
            return labels_satisfy(pack.labels, self._action(doc).pack_labels)

        key = f"{field}:{prefix}"
        while True:
            claim = self._candidates.claim(
                key, fits, lambda limit: self._waiting(queue, 0, limit)
            )
            if claim.doc is None:
                break
            try:
                taken = self._take(self._action(claim.doc), pack, now, lease_until)
            finally:
                self._candidates.release(key, claim.doc["_id"])
            if taken is not None:
                return taken
        if not claim.others_left:
            return None
        # Some are waiting, but none this pack may take (labels): look further
        # along the queue, page by page.
        return self._take_by_paging(queue, pack, now, lease_until)

    def _waiting(self, queue: Queue, skip: int, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` waiting actions of the queue, oldest first."""
        # "|" opens the order part of the key and "}" is the next character.
        waiting = {queue.field: {"$gte": queue.prefix + "|", "$lt": queue.prefix + "}"}}
        cursor = self._actions.find(waiting).sort(queue.field, ASCENDING)
        return list(cursor.skip(skip).limit(limit))

    def _take_by_paging(
        self, queue: Queue, pack: Pack, now: datetime, lease_until: datetime
    ) -> Action | None:
        """The oldest action of the queue the pack may take, read page by page."""
        skip = 0
        while True:
            docs = self._waiting(queue, skip, TAKE_BATCH)
            taken = self._take_one_of(docs, pack, now, lease_until)
            if taken is not None:
                return taken
            if len(docs) < TAKE_BATCH:
                return None
            skip += TAKE_BATCH

    def _take_one_of(
        self,
        docs: list[dict[str, Any]],
        pack: Pack,
        now: datetime,
        lease_until: datetime,
    ) -> Action | None:
        """The oldest candidate the pack may take; after a lost race, any of them.

        Takers that read the same candidates together all try the oldest. Were
        the losers to race again for the next oldest, each loss would cost a
        write; picking at random, they mostly win their second try.
        """
        remaining = list(docs)
        lost_a_race = False
        while remaining:
            index = random.randrange(len(remaining)) if lost_a_race else 0
            candidate = self._action(remaining.pop(index))
            if not labels_satisfy(pack.labels, candidate.pack_labels):
                continue
            taken = self._take(candidate, pack, now, lease_until)
            if taken is not None:
                return taken
            lost_a_race = True
        return None

    def _take(
        self, candidate: Action, pack: Pack, now: datetime, lease_until: datetime
    ) -> Action | None:
        """NEW -> PENDING if nobody took it first."""
        return self._move(
            candidate,
            candidate.moved_to(
                ActionState.PENDING,
                now,
                attempts=candidate.attempts + 1,
                lease_expires_at=lease_until,
                taken_by=pack.ref(),
            ),
        )

    @translate_errors
    def get_for_pack(self, action_id: str, pack: Pack) -> Action:
        """The action, if this pack may complete it; else raise ActionNotFound."""
        action = self.get(action_id)
        if action.pack_name != pack.name or not labels_satisfy(
            pack.labels, action.pack_labels
        ):
            raise ActionNotFound(action_id)
        return action

    @translate_errors
    def finish(self, action: Action, finished: Action) -> Action:
        """Store ``finished`` (from ``Action.finished_with``) if ``action`` is as read.

        Raises ActionNotPending when the action changed meanwhile (finished by
        another request, or handed out again after its lease expired).
        """
        if self._move(action, finished) is None:
            raise ActionNotPending(
                action.id, "it changed meanwhile (finished, or handed out again)"
            )
        return finished

    @translate_errors
    def find_expired_leases(self, now: datetime, limit: int = 100) -> list[Action]:
        """PENDING actions whose lease ran out before ``now``."""
        cursor = self._actions.find({"leaseExpiresAt": {"$lt": to_millis(now)}}).limit(
            limit
        )
        return [self._action(doc) for doc in cursor]

    @translate_errors
    def replace_if_unchanged(self, before: Action, after: Action) -> Action | None:
        """Store ``after`` only if the action is still ``before``; else None."""
        return self._move(before, after)

    @translate_errors
    def rekey(self) -> int:
        """Re-encrypt every secret action under the current key; return how many.

        Without a key there is nothing this store could have encrypted: 0.
        """
        box = self._secrets
        if box is None:
            return 0
        count = 0
        # A range, not $exists: only sealed actions have a (non-empty) token.
        for doc in self._actions.find({SEALED: {"$gt": ""}}, {"_id": 1, SEALED: 1}):
            token = box.rotate(str(doc[SEALED]).encode("ascii"))
            self._actions.update_one(
                {"_id": doc["_id"]}, {"$set": {SEALED: token.decode("ascii")}}
            )
            count += 1
        return count

    def _move(self, before: Action, after: Action) -> Action | None:
        """Compare-and-set on (state, attempts): write only the fields that change.

        nx-27017 corrupts ``$push`` of documents, so the history is rewritten whole,
        and the filter guarantees nobody changed it since ``before`` was read.
        """
        old, new = _document(before), _document(after)
        changed = {key: value for key, value in new.items() if old.get(key) != value}
        if after.secret and changed.keys() & set(SEALED_FIELDS):
            # Never the case today (a move changes only state fields), but a
            # changed secret field must not be written in the clear.
            changed.update(self._seal(after, new))
        update: dict[str, Any] = {"$set": changed}
        removed = {key: "" for key in old if key not in new}
        if removed:
            update["$unset"] = removed
        result = self._actions.update_one(
            {
                "_id": before.id,
                "state.value": before.state.value,
                "attempts": before.attempts,
            },
            update,
        )
        if result.matched_count != 1:
            return None
        self._metrics.action_moved(before.state, after.state)
        self._copy_to_audit([after], new=False)
        return after

    def _stored(self, action: Action) -> dict[str, Any]:
        """The document to insert: a secret action's fields masked and sealed."""
        doc = _document(action)
        if action.secret:
            doc.update(self._seal(action, doc))
        return doc

    def _seal(self, action: Action, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The secret fields masked, and the real ones encrypted under ``SEALED``."""
        real = {key: doc[key] for key in SEALED_FIELDS}
        token = self._box(action.id).encrypt(json.dumps(real).encode("utf-8"))
        return {
            **{key: MASK.data(value) for key, value in real.items()},
            SEALED: token.decode("ascii"),
        }

    def _action(self, doc: dict[str, Any]) -> Action:
        """The action of a stored document, a sealed one decrypted."""
        token = doc.get(SEALED)
        if token is None:
            return Action.from_document(doc)
        plain = self._box(doc["_id"]).decrypt(str(token).encode("ascii"))
        action = Action.from_document({**doc, **json.loads(plain)})
        return replace(action, secret=True)

    def _box(self, action_id: str) -> SecretBox:
        if self._secrets is None:
            raise SecretsUnavailable(
                f"action={action_id}: no key for secrets: set {KEY_SETTING}"
            )
        return self._secrets

    def _copy_to_audit(self, actions: Sequence[Action], *, new: bool) -> None:
        """Write the audit copy; if that fails, log it: the action itself is stored.

        (The one place a store swallows an error, as upstream: the audit is a
        record of the actions, never a reason to refuse them.)
        """
        try:
            if new:
                self._audit.add(actions)
            else:
                self._audit.update(actions[0])
        except (PyMongoError, FlyteError) as ex:
            for action in actions:
                logger.error(
                    "audit copy failed for action=%s correlation=%s: %s",
                    action.id,
                    action.correlation_id,
                    ex,
                )


def _document(action: Action) -> dict[str, Any]:
    doc = action.to_document()
    # Only NEW actions are queued, so the index a take reads holds only takeable
    # actions, whatever the backlog of finished ones.
    if action.state is ActionState.NEW:
        doc.update(queue_fields(action))
    # Retention counts from creation: a date only ever written with the document.
    doc[STORED_AT] = action.states[0].time
    return doc
