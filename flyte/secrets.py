"""Datastore secrets: Fernet encryption at rest, key rotation, and masking.

A secret item's value is stored as a Fernet token (AES-128-CBC with an
HMAC-SHA256, from ``cryptography``) under ``FLYTE_SECRETS_KEY``. Keys listed in
``FLYTE_SECRETS_OLD_KEYS`` still decrypt, so a key can be rotated: set the new key,
move the old one to the old keys, run ``flyte datastore rekey``, then drop it.

Other server code reads a secret's plaintext through
``DatastoreStore.reveal_secret(key) -> str`` (flyte/store/datastore.py), which
raises ``DatastoreItemNotFound`` for a missing, expired or non-secret key. Each
value revealed in this process is remembered by ``flyte.masking.MASK`` so that
audit copies, event outcomes and logs can replace it with ``MASKED``.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet

from flyte.config import Settings
from flyte.errors import AuthError
from flyte.errors import FlyteError

#: The setting that holds the current key (named in errors).
KEY_SETTING = "FLYTE_SECRETS_KEY"


class SecretsUnavailable(FlyteError):
    """A secret cannot be decrypted: no key configured, or none of them fits."""


class SecretValueWithheld(AuthError):
    """A secret's value was asked for where it is never served (401, as upstream)."""


class SecretBox:
    """Encrypt and decrypt secret values with the current key and the old ones."""

    def __init__(self, key: str, old_keys: Sequence[str] = ()) -> None:
        self._fernet = MultiFernet(
            [Fernet(k.encode("ascii")) for k in (key, *old_keys)]
        )

    @classmethod
    def from_keys(
        cls, key: str | None, old_keys: Sequence[str] = ()
    ) -> SecretBox | None:
        """A box for the configured keys, or None when no current key is set."""
        return cls(key, old_keys) if key else None

    def encrypt(self, plaintext: bytes) -> bytes:
        """A token for the value, under the current key."""
        return self._fernet.encrypt(plaintext)

    def decrypt(self, token: bytes) -> bytes:
        """The value of a token made under the current key or an old one."""
        with _known_key():
            return self._fernet.decrypt(token)

    def rotate(self, token: bytes) -> bytes:
        """The same value re-encrypted under the current key."""
        with _known_key():
            return self._fernet.rotate(token)


@contextmanager
def _known_key() -> Iterator[None]:
    """Turn a token that no configured key opens into SecretsUnavailable."""
    try:
        yield
    except InvalidToken as ex:
        raise SecretsUnavailable(
            f"a secret cannot be decrypted with {KEY_SETTING} or any old key"
        ) from ex


def generate_key() -> str:
    """A new random key for ``FLYTE_SECRETS_KEY``."""
    return Fernet.generate_key().decode("ascii")


def box_from_settings(settings: Settings) -> SecretBox | None:
    """The configured SecretBox, or None without FLYTE_SECRETS_KEY."""
    return SecretBox.from_keys(settings.secrets_key, settings.secrets_old_keys)
