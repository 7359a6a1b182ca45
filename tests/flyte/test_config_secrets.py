"""FLYTE_SECRETS_KEY and FLYTE_SECRETS_OLD_KEYS: parsed, checked, never in repr."""

from __future__ import annotations

import pytest

from flyte.config import Settings
from flyte.errors import ConfigError
from flyte.secrets import box_from_settings
from flyte.secrets import generate_key


def test_no_key_means_no_secrets() -> None:
    settings = Settings.from_env({})
    assert (settings.secrets_key, settings.secrets_old_keys) == (None, ())
    assert box_from_settings(settings) is None


def test_the_key_and_old_keys_are_read_and_kept_out_of_repr() -> None:
    key, old1, old2 = generate_key(), generate_key(), generate_key()
    env = {
        "FLYTE_SECRETS_KEY": f" {key} ",
        "FLYTE_SECRETS_OLD_KEYS": f"{old1}, {old2},",
    }
    settings = Settings.from_env(env)
    assert (settings.secrets_key, settings.secrets_old_keys) == (key, (old1, old2))
    assert key not in repr(settings) and old1 not in repr(settings)
    assert box_from_settings(settings) is not None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FLYTE_SECRETS_KEY", "not base64!"),
        ("FLYTE_SECRETS_KEY", "c2hvcnQ="),
        ("FLYTE_SECRETS_OLD_KEYS", "c2hvcnQ="),
        ("FLYTE_SECRETS_OLD_KEYS", ",".join(generate_key() for _ in range(11))),
    ],
)
def test_a_bad_key_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
