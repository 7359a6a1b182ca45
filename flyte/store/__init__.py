"""Persistence: one store per MongoDB collection; no Mongo call lives elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo.database import Database

from flyte.flow_stamp import FlowStamp
from flyte.secrets import SecretBox
from flyte.store.actions import ActionStore
from flyte.store.audit import AuditStore
from flyte.store.datastore import DatastoreStore
from flyte.store.events import EventStore
from flyte.store.flows import FlowStore
from flyte.store.idempotency import IdempotencyStore
from flyte.store.indexes import ensure_indexes
from flyte.store.mongo import connect
from flyte.store.mongo import ping
from flyte.store.packs import PackStore

__all__ = ["Stores", "connect", "ensure_indexes", "open_stores", "ping"]


@dataclass(frozen=True)
class Stores:
    """Every store, bundled for injection."""

    db: Database[dict[str, Any]]
    packs: PackStore
    flows: FlowStore
    actions: ActionStore
    events: EventStore
    audit: AuditStore
    datastore: DatastoreStore
    idempotency: IdempotencyStore


def open_stores(
    db: Database[dict[str, Any]],
    secrets: SecretBox | None = None,
    *,
    flow_stamp: FlowStamp | None = None,
) -> Stores:
    """Build every store on one database; ``secrets`` encrypts secrets at rest.

    ``flow_stamp`` lets the flow store cache which flows an event matches.
    """
    audit = AuditStore(db)
    return Stores(
        db=db,
        packs=PackStore(db),
        flows=FlowStore(db, stamp=flow_stamp),
        actions=ActionStore(db, audit, secrets=secrets),
        events=EventStore(db),
        audit=audit,
        datastore=DatastoreStore(db, secrets),
        idempotency=IdempotencyStore(db),
    )
