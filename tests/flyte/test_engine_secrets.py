"""``secret(key)`` in flows (the pack gets the value, the audit and logs a mask),
and the TTL examples of docs/datastore.md."""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from bson import json_util

from flyte.action import ActionState
from flyte.clock import to_millis
from flyte.clock import utcnow
from flyte.config import Settings
from flyte.datastore import DatastoreItem
from flyte.engine import FlowEngine
from flyte.event import PackRef
from flyte.flow import Flow
from flyte.flow import parse_flow
from flyte.logging import configure_logging
from flyte.masking import MASKED
from flyte.masking import SecretMask
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store import open_stores
from flyte.store.datastore import DatastoreStore
from flyte.templating import build_engine
from flyte.templating import template_functions
from tests.conftest import FakeClock
from tests.flyte.test_engine import add_flow
from tests.flyte.test_engine import check
from tests.flyte.test_engine import post
from tests.flyte.test_engine import step

PLAINTEXT = "pg-pass-93c1f0e7"


@pytest.fixture
def secret_stores(stores: Stores) -> Stores:
    secrets = open_stores(stores.db, SecretBox(generate_key()))
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
    # The action holds it encrypted (for the pack to take): no collection has it.
    assert PLAINTEXT not in collections_text(secret_stores)
    assert secret_stores.actions.get(action.id).input["password"] == PLAINTEXT


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


def test_tracebacks_in_log_lines_mask_revealed_secrets(
    secret_stores: Stores, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a secret revealed, then an error whose message carries it
    secret_stores.datastore.reveal_secret("db-pass")
    configure_logging(settings)
    with caplog.at_level(logging.INFO):
        try:
            raise ConnectionError(f"login failed for password {PLAINTEXT}")
        except ConnectionError:
            logging.getLogger("flyte.test").exception("the step failed")
    # Then the logged traceback shows the mask, not the value
    assert "Traceback (most recent call last)" in caplog.text
    assert f"login failed for password {MASKED}" in caplog.text
    assert PLAINTEXT not in caplog.text


DOCS = Path(__file__).resolve().parents[2] / "docs" / "datastore.md"


def docs_flow(name: str) -> Flow:
    found = re.search(rf"```yaml\n(name: {name}\n.*?)```", DOCS.read_text(), re.S)
    assert found is not None, name
    return parse_flow(yaml.safe_load(found.group(1)), check)


def run_docs_flow(
    stores: Stores, engine: FlowEngine, clock: FakeClock, flow: Flow, pack: str
) -> str:
    """Post the flow's event for host web-1; the step's status."""
    stores.flows.add(flow)
    name = flow.steps[0].event.name if flow.steps[0].event else ""
    event = post(stores, clock, name, {"host": "web-1"}, PackRef(pack, pack, {}))
    [outcome] = engine.process(event.id)
    stores.flows.delete(flow.name)
    return str(outcome.steps[0].status)


def test_the_rate_limit_example_skips_while_the_mark_lives(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    flow = docs_flow("restart_when_down")
    now_ms = to_millis(utcnow())
    mark = DatastoreItem(key="restarted-web-1", value=b"1")
    assert run_docs_flow(stores, engine, clock, flow, "Monitor") == "fired"
    stores.datastore.put(dataclasses.replace(mark, expires_at_ms=now_ms + 600_000))
    assert run_docs_flow(stores, engine, clock, flow, "Monitor") == "skipped"
    # Expired but not purged yet: the flow fires again.
    stores.datastore.put(dataclasses.replace(mark, expires_at_ms=now_ms - 1))
    assert run_docs_flow(stores, engine, clock, flow, "Monitor") == "fired"


def test_the_window_count_example_pages_from_the_third_restart(
    stores: Stores, engine: FlowEngine, clock: FakeClock
) -> None:
    flow = docs_flow("page_on_restart_loop")
    assert run_docs_flow(stores, engine, clock, flow, "Remediation") == "skipped"
    for count, status in ((b"2", "skipped"), (b"3", "fired")):
        stores.datastore.put(DatastoreItem(key="restarts-web-1", value=count))
        assert run_docs_flow(stores, engine, clock, flow, "Remediation") == status


def test_masked_functions_render_a_secret_as_the_mask_without_decrypting(
    settings: Settings, stores: Stores, secret_stores: Stores, clock: FakeClock
) -> None:
    # The store has no key: a decryption would fail, so none is attempted.
    keyless = DatastoreStore(stores.db)
    functions = template_functions(keyless, mask_secrets=True)
    assert functions["secret"]("db-pass") == MASKED
    with pytest.raises(LookupError):
        functions["secret"]("nope")
