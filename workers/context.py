"""The engine and housekeeper of this worker process, built lazily after fork.

Actors reach them through ``get_engine()`` / ``get_housekeeper()``; tests install
their own with the ``set_`` functions (dramatiq's ``get_broker``/``set_broker`` idiom).
MongoClient is not fork-safe, so nothing connects at import time.
"""

from __future__ import annotations

import threading
from datetime import timedelta

from flyte.config import Settings
from flyte.engine import FlowEngine
from flyte.housekeeping import Housekeeper
from flyte.runtime import Leases
from flyte.store import connect
from flyte.store import ensure_indexes
from flyte.store import open_stores
from flyte.store.retention import Retention
from flyte.templating import build_engine
from flyte.templating import template_functions
from workers.queue import DramatiqQueue

_lock = threading.Lock()
_engine: FlowEngine | None = None
_housekeeper: Housekeeper | None = None


def get_engine() -> FlowEngine:
    """This process's engine, connected on first use."""
    if _engine is None:
        _build(Settings.from_env())
    assert _engine is not None
    return _engine


def get_housekeeper() -> Housekeeper:
    """This process's housekeeper, connected on first use."""
    if _housekeeper is None:
        _build(Settings.from_env())
    assert _housekeeper is not None
    return _housekeeper


def set_engine(engine: FlowEngine | None) -> None:
    """Install the engine actors use (tests wire one to their own servers)."""
    global _engine
    _engine = engine


def set_housekeeper(housekeeper: Housekeeper | None) -> None:
    """Install the housekeeper actors use."""
    global _housekeeper
    _housekeeper = housekeeper


def _build(settings: Settings) -> None:
    global _engine, _housekeeper
    with _lock:
        if _engine is not None and _housekeeper is not None:
            return
        db = connect(settings)
        retention = Retention.from_settings(settings)
        ensure_indexes(db, retention)
        stores = open_stores(db)
        leases = Leases(settings.action_lease_seconds, settings.action_max_attempts)
        _engine = _engine or FlowEngine(
            stores,
            build_engine(settings),
            functions=template_functions(stores.datastore),
        )
        _housekeeper = _housekeeper or Housekeeper(
            stores,
            DramatiqQueue(),
            leases,
            timedelta(seconds=settings.event_recovery_seconds),
            retention=retention,
            pack_grace=timedelta(seconds=settings.pack_grace_seconds)
            if settings.should_delete_dead_packs
            else None,
        )
