"""``flyte datastore put --secret/--ttl``, ``rekey`` and ``new-key`` on a live API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.fernet import Fernet

from api.app import Dependencies
from api.app import create_app
from flyte.config import Settings
from flyte.datastore import DatastoreItem
from flyte.secrets import SecretBox
from flyte.secrets import generate_key
from flyte.store import Stores
from flyte.store.datastore import DatastoreStore
from tests.conftest import serve
from tests.flyte.cli.cli import flyte
from tests.flyte.store.test_datastore_secrets import database_text
from workers.queue import DramatiqQueue

OLD_KEY, NEW_KEY = generate_key(), generate_key()


@pytest.fixture
def rotating_api(
    settings: Settings, stores: Stores, queue: DramatiqQueue
) -> Iterator[str]:
    """An API whose current key is NEW_KEY, OLD_KEY still accepted for reads."""
    datastore = DatastoreStore(stores.db, SecretBox(NEW_KEY, [OLD_KEY]))
    deps = Dependencies(
        stores=Stores(**{**stores.__dict__, "datastore": datastore}),
        queue=queue,
        health_checks={},
    )
    with serve(create_app(settings, deps)) as url:
        yield url


def test_put_secret_with_ttl_is_listed_as_secret_and_never_stored_in_clear(
    rotating_api: str, stores: Stores, capsys: pytest.CaptureFixture[str]
) -> None:
    put = ("datastore", "put", "pager-key", "--value", "pg-0123456789")
    run = flyte(capsys, rotating_api, *put, "--secret", "--ttl", "600")
    assert (
        run.out == "created pager-key (text/plain; charset=utf-8, 13 bytes, secret)\n"
    )
    listed = flyte(capsys, rotating_api, "datastore", "list")
    assert "secret" in listed.out and "pager-key" in listed.out
    got = flyte(capsys, rotating_api, "datastore", "get", "pager-key")
    assert got.code == 1 and "pg-0123456789" not in got.out + got.err
    assert "pg-0123456789" not in database_text(stores.db)


def test_rekey_moves_secrets_stored_under_the_old_key_to_the_new_one(
    rotating_api: str, stores: Stores, capsys: pytest.CaptureFixture[str]
) -> None:
    DatastoreStore(stores.db, SecretBox(OLD_KEY)).put(
        DatastoreItem(key="token", value=b"tok-abcdef", secret=True)
    )
    run = flyte(capsys, rotating_api, "datastore", "rekey")
    assert run.out == "re-encrypted 1 secret(s) under FLYTE_SECRETS_KEY\n"
    only_new = DatastoreStore(stores.db, SecretBox(NEW_KEY))
    assert only_new.reveal_secret("token") == "tok-abcdef"


def test_new_key_prints_a_usable_fernet_key(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = flyte(capsys, "http://127.0.0.1:9", "datastore", "new-key")
    key = run.out.strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"
    assert Settings.from_env({"FLYTE_SECRETS_KEY": key}).secrets_key == key
