"""Actions that carry a secret: encrypted in MongoDB, in full for the pack.

The real Redis broker carries the event and a real Dramatiq worker (threads in
this process) renders the flow, revealing the secret, against the test database.
"""

from __future__ import annotations

from typing import Any

import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker
from falcon import testing
from pymongo.database import Database

from flyte.datastore import DatastoreItem
from flyte.housekeeping import Housekeeper
from flyte.masking import MASKED
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store import open_stores
from tests.api.test_runtime import result_path
from tests.api.test_runtime import take
from tests.conftest import FakeClock
from tests.conftest import drain
from tests.flyte.store.test_datastore_secrets import database_text

PLAINTEXT = "pg-pass-7d1e93b0c4"
KEY = generate_key()
FLOW = {
    "name": "migrate",
    "steps": [
        {
            "id": "run",
            "event": {"packName": "Slack", "name": "ReceivedMessage"},
            "context": {"dsn": "postgres://app:{{ secret('db-pass') }}@db/app"},
            "command": {
                "packName": "Shell",
                "name": "Shell",
                "input": {"user": "app", "password": "{{ secret('db-pass') }}"},
            },
        },
        {
            "id": "report",
            "dependsOn": ["run"],
            "event": {"packName": "Shell", "name": "Output"},
            "command": {
                "packName": "Slack",
                "name": "SendMessage",
                "input": {"text": "done with {{ Context.dsn }}"},
            },
        },
    ],
}


@pytest.fixture
def stores(db: Database[dict[str, Any]]) -> Stores:
    """Every store on the test database, with a key for secrets (the worker's too)."""
    return open_stores(db, SecretBox(KEY))


@pytest.fixture
def api(client: testing.TestClient, stores: Stores) -> testing.TestClient:
    """The Slack and Shell packs, the flow, and the secret it reads."""
    stores.datastore.put(
        DatastoreItem(key="db-pass", value=PLAINTEXT.encode(), secret=True)
    )
    client.simulate_post("/v1/packs", json={"name": "Slack"})
    client.simulate_post("/v1/packs", json={"name": "Shell"})
    assert client.simulate_post("/v1/flows", json=FLOW).status_code == 201
    return client


def post_message(api: testing.TestClient) -> None:
    body = {"event": "ReceivedMessage", "payload": {"text": "migrate"}}
    assert api.simulate_post("/v1/packs/Slack/events", json=body).status_code == 202


def test_a_secret_in_an_action_is_nowhere_in_mongodb_and_in_full_for_the_pack(
    api: testing.TestClient,
    stores: Stores,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    # Given an event processed by the worker, whose flow's input reads a secret
    post_message(api)
    drain(broker, worker)
    # Then the plaintext is in no collection (JSON and raw bytes)
    assert PLAINTEXT not in database_text(stores.db)
    [stored] = stores.db["action"].find({})
    assert stored["input"] == {"user": "app", "password": MASKED}
    assert stored["context"] == {"dsn": f"postgres://app:{MASKED}@db/app"}
    # And the pack that takes the action receives it in full
    taken = take(api, "Shell")
    assert taken.status_code == 200
    assert taken.json["input"] == {"user": "app", "password": PLAINTEXT}
    assert PLAINTEXT not in database_text(stores.db)


def test_a_continuation_of_a_secret_context_is_encrypted_too(
    api: testing.TestClient,
    stores: Stores,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    # Given the first action taken and answered: the next step reads its context
    post_message(api)
    drain(broker, worker)
    taken = take(api, "Shell")
    result = {"event": "Output", "payload": {"stdout": "ok"}}
    assert api.simulate_post(result_path(taken), json=result).status_code == 202
    drain(broker, worker)
    # Then the continuation's action is stored without the plaintext
    assert PLAINTEXT not in database_text(stores.db)
    # And its pack gets the context's secret in full
    reply = take(api, "Slack")
    assert reply.json["input"] == {
        "text": f"done with postgres://app:{PLAINTEXT}@db/app"
    }


def test_an_expired_lease_hands_out_the_secret_action_again(
    api: testing.TestClient,
    stores: Stores,
    broker: RedisBroker,
    worker: Worker,
    housekeeper: Housekeeper,
    clock: FakeClock,
) -> None:
    # Given a secret action taken, whose pack never answers
    post_message(api)
    drain(broker, worker)
    assert take(api, "Shell").status_code == 200
    # When its lease runs out
    clock.advance(hours=1)
    assert housekeeper.expire_leases() == 1
    # Then it is queued again, still encrypted, and handed out in full
    assert PLAINTEXT not in database_text(stores.db)
    again = take(api, "Shell")
    assert again.status_code == 200
    assert again.json["input"] == {"user": "app", "password": PLAINTEXT}


def test_rekey_re_encrypts_secret_actions_so_the_old_key_can_go(
    api: testing.TestClient,
    stores: Stores,
    broker: RedisBroker,
    worker: Worker,
) -> None:
    # Given a secret action stored under the current key
    post_message(api)
    drain(broker, worker)
    [before] = stores.db["action"].find({})
    # When the API re-keys: the datastore item and the action
    assert api.simulate_post("/v1/secrets/rekey").json == {"rekeyed": 2}
    # And the key rotates, the old one still read, and everything is re-keyed
    new_key = generate_key()
    rotating = open_stores(stores.db, SecretBox(new_key, [KEY]))
    assert rotating.datastore.rekey() == 1
    assert rotating.actions.rekey() == 1
    # Then the new key alone reads the action, in full
    [after] = stores.db["action"].find({})
    assert after["sealed"] != before["sealed"]
    only_new = open_stores(stores.db, SecretBox(new_key))
    action = only_new.actions.get(after["_id"])
    assert action.input == {"user": "app", "password": PLAINTEXT}
    assert PLAINTEXT not in database_text(stores.db)
