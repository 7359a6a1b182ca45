"""``secret(key)`` in flows: the pack gets the value, the audit and logs a mask."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
from bson import json_util

from flyte.action import ActionState
from flyte.config import Settings
from flyte.datastore import DatastoreItem
from flyte.engine import FlowEngine
from flyte.logging import configure_logging
from flyte.masking import MASKED
from flyte.masking import SecretMask
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store.datastore import DatastoreStore
from flyte.templating import build_engine
from flyte.templating import template_functions
from tests.conftest import FakeClock
from tests.flyte.test_engine import add_flow
from tests.flyte.test_engine import post
from tests.flyte.test_engine import step

PLAINTEXT = "pg-pass-93c1f0e7"


@pytest.fixture
def secret_stores(stores: Stores) -> Stores:
    box = SecretBox(generate_key())
    secrets = dataclasses.replace(stores, datastore=DatastoreStore(stores.db, box))
    secrets.datastore.put(
        DatastoreItem(key="db-pass", value=PLAINTEXT.encode(), secret=True)
    )
    return secrets


@pytest.fixture
def secret_engine(
    settings: Settings, secret_stores: Stores, clock: FakeClock
) -> FlowEngine:
    return FlowEngine(
        secret_stores,
        build_engine(settings),
        clock=clock,
        functions=template_functions(secret_stores.datastore),
    )


def fire(stores: Stores, engine: FlowEngine, clock: FakeClock, **extra: Any) -> Any:
    add_flow(stores, step("a", **extra))
    [outcome] = engine.process(post(stores, clock).id)
    return outcome.steps[0]


def collections_text(stores: Stores, *leaving_out: str) -> str:
    names = set(stores.db.list_collection_names()) - set(leaving_out)
    return "\n".join(
        json_util.dumps(doc) for name in names for doc in stores.db[name].find({})
    )


def test_the_pack_gets_the_secret_and_the_audit_copy_a_mask(
    secret_stores: Stores,
    secret_engine: FlowEngine,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    input_ = {"user": "app", "password": "{{ secret('db-pass') }}"}
    outcome = fire(secret_stores, secret_engine, clock, input=input_)
    assert outcome.status == "fired"
    action = secret_stores.actions.get(outcome.action_id)
    assert action.input == {"user": "app", "password": PLAINTEXT}
    [copy] = secret_stores.audit.find_by_correlation(action.correlation_id)
    assert copy.input == {"user": "app", "password": MASKED}
    # A state change written by another process (the API's, which never revealed
    # the secret) keeps the copy's masked input.
    monkeypatch.setattr("flyte.store.audit.MASK", SecretMask())
    later = action.moved_to(ActionState.NEW, clock(), lease_expires_at=None)
    assert secret_stores.actions.replace_if_unchanged(action, later) is not None
    [copy] = secret_stores.audit.find_by_correlation(action.correlation_id)
    assert copy.input == {"user": "app", "password": MASKED}
    # Only the pending action holds it (for the pack to take): no other collection.
    assert PLAINTEXT not in collections_text(secret_stores, "action")


def test_datastore_refuses_a_secret_and_names_secret(
    secret_stores: Stores, secret_engine: FlowEngine, clock: FakeClock
) -> None:
    outcome = fire(
        secret_stores, secret_engine, clock, input="{{ datastore('db-pass') }}"
    )
    assert outcome.status == "error"
    assert "secret('db-pass')" in outcome.reason
    assert PLAINTEXT not in collections_text(secret_stores)


def test_a_missing_secret_is_a_step_error(
    secret_stores: Stores, secret_engine: FlowEngine, clock: FakeClock
) -> None:
    outcome = fire(secret_stores, secret_engine, clock, input="{{ secret('nope') }}")
    assert outcome.status == "error"
    assert "cannot find secret key=nope" in outcome.reason


def test_log_lines_mask_revealed_secrets(
    secret_stores: Stores, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    assert secret_stores.datastore.reveal_secret("db-pass") == PLAINTEXT
    configure_logging(settings)
    with caplog.at_level(logging.INFO):
        logging.getLogger("flyte.test").warning("connecting with %s", PLAINTEXT)
    assert PLAINTEXT not in caplog.text
    assert f"connecting with {MASKED}" in caplog.text
