"""Datastore secrets: Fernet encryption at rest, key rotation, and masking.

A secret item's value is stored as a Fernet token (AES-128-CBC with an
HMAC-SHA256, from ``cryptography``) under ``FLYTE_SECRETS_KEY``. Keys listed in
``FLYTE_SECRETS_OLD_KEYS`` still decrypt, so a key can be rotated: set the new key,
move the old one to the old keys, run ``flyte datastore rekey``, then drop it.

Other server code reads a secret's plaintext through
``DatastoreStore.reveal_secret(key) -> str`` (flyte/store/datastore.py), which
raises ``DatastoreItemNotFound`` for a missing, expired or non-secret key. Each
value revealed in this process is remembered by :data:`MASK` so that audit copies
and logs can replace it with :data:`MASKED`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet

from flyte.config import Settings
from flyte.errors import FlyteError

#: What a secret value is shown as, wherever it would otherwise appear.
MASKED = "********"
#: The setting that holds the current key (named in errors).
KEY_SETTING = "FLYTE_SECRETS_KEY"
#: Secrets shorter than this are not masked inside other text: a 1-2 character
#: value would mask every occurrence of that letter.
MIN_MASKED_LENGTH = 4
#: Most revealed values remembered for masking (least recently revealed go first).
MAX_REMEMBERED = 10_000


class SecretsUnavailable(FlyteError):
    """A secret cannot be decrypted: no key configured, or none of them fits."""


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
        try:
            return self._fernet.decrypt(token)
        except InvalidToken as ex:
            raise SecretsUnavailable(
                f"a secret cannot be decrypted with {KEY_SETTING} or any old key"
            ) from ex

    def rotate(self, token: bytes) -> bytes:
        """The same value re-encrypted under the current key."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken as ex:
            raise SecretsUnavailable(
                f"a secret cannot be decrypted with {KEY_SETTING} or any old key"
            ) from ex


def generate_key() -> str:
    """A new random key for ``FLYTE_SECRETS_KEY``."""
    return Fernet.generate_key().decode("ascii")


class SecretMask:
    """The secret values revealed in this process, to mask wherever they appear."""

    def __init__(self, max_remembered: int = MAX_REMEMBERED) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._max = max_remembered
        self._lock = threading.Lock()

    def remember(self, value: str) -> None:
        """Mask this value from now on."""
        if len(value) < MIN_MASKED_LENGTH:
            return
        with self._lock:
            self._values[value] = None
            self._values.move_to_end(value)
            while len(self._values) > self._max:
                self._values.popitem(last=False)

    def text(self, text: str) -> str:
        """The text with every remembered value replaced by MASKED."""
        if not self._values or not text:
            return text
        with self._lock:
            # Longest first: a secret that contains another is masked whole.
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, MASKED)
        return text

    def data(self, data: Any) -> Any:
        """A copy of JSON-like data with every remembered value masked in strings."""
        if not self._values:
            return data
        if isinstance(data, str):
            return self.text(data)
        if isinstance(data, dict):
            return {key: self.data(value) for key, value in data.items()}
        if isinstance(data, list):
            return [self.data(value) for value in data]
        return data


#: The process's mask: filled by reveals, read by the audit copy and the logs.
MASK = SecretMask()


def box_from_settings(settings: Settings) -> SecretBox | None:
    """The configured SecretBox, or None without FLYTE_SECRETS_KEY."""
    return SecretBox.from_keys(settings.secrets_key, settings.secrets_old_keys)
