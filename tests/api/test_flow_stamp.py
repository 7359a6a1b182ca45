"""Flow writes through the API renew the flow stamp, and answer 503 without Redis.

Workers cache which flows an event matches until the stamp changes: a flow write
the stamp could not record must not be answered as done.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from pymongo.database import Database

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.flow_stamp import RedisFlowStamp
from flyte.health import health_redis_client
from flyte.store import open_stores
from tests.api.test_flow_enabled import FLOW
from tests.outages import OwnServer
from tests.outages import own_redis
from workers.queue import DramatiqQueue


@pytest.fixture
def stamp_redis(tmp_path: Path) -> Iterator[OwnServer]:
    """A Redis of the test's own for the stamp, which it stops."""
    with own_redis(tmp_path) as server:
        yield server


@pytest.fixture
def stamp(db: Database[dict[str, Any]], stamp_redis: OwnServer) -> RedisFlowStamp:
    """The flow stamp of the test database, as build_app makes it."""
    return RedisFlowStamp(health_redis_client(stamp_redis.url), db.name)


@pytest.fixture
def api(
    settings: Settings,
    db: Database[dict[str, Any]],
    queue: DramatiqQueue,
    stamp: RedisFlowStamp,
) -> testing.TestClient:
    """The app, its flow store renewing ``stamp``."""
    stores = open_stores(db, flow_stamp=stamp)
    deps = Dependencies(stores=stores, queue=queue, health_checks={})
    return testing.TestClient(create_app(settings, deps))


def test_each_flow_write_renews_the_stamp(
    api: testing.TestClient, stamp: RedisFlowStamp
) -> None:
    seen = [stamp.current()]
    for write in (
        lambda: api.simulate_post("/v1/flows", json=FLOW),
        lambda: api.simulate_put("/v1/flows/deploy/enabled", json=False),
        lambda: api.simulate_put("/v1/flows/deploy/enabled", json=True),
        lambda: api.simulate_delete("/v1/flows/deploy"),
    ):
        assert write().status_code in (200, 201, 204)
        seen.append(stamp.current())
    assert len(set(seen)) == len(seen)


def test_without_redis_flow_writes_answer_503_and_change_nothing(
    api: testing.TestClient, stamp_redis: OwnServer
) -> None:
    assert api.simulate_post("/v1/flows", json=FLOW).status_code == 201
    before = api.simulate_get("/v1/flows/deploy").json
    # When the stamp's Redis is down
    stamp_redis.stop()
    # Then every flow write is refused, retryably, before MongoDB is touched
    changed = {**FLOW, "description": "changed"}
    resp = api.simulate_post("/v1/flows", json=changed)
    assert resp.status_code == 503
    assert "Redis is unavailable" in resp.text
    assert api.simulate_put("/v1/flows/deploy/enabled", json=False).status_code == 503
    assert api.simulate_delete("/v1/flows/deploy").status_code == 503
    # ... while reading flows needs only MongoDB
    after = api.simulate_get("/v1/flows/deploy")
    assert (after.status_code, after.json) == (200, before)
    assert api.simulate_get("/v1/flows/deploy/enabled").json is True
