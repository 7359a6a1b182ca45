"""Upstream Flyte's static template functions (template globals).

``datastore`` and ``secret`` need storage, so the caller supplies them per render
(see :func:`make_datastore_function` and :func:`make_secret_function`);
``template`` needs the engine and lives there.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import string
from collections.abc import Callable
from typing import Any
from typing import NoReturn

from templates.limits import check_size
from templates.limits import current_rng
from templates.values import to_text

_ALPHABET = string.ascii_letters
_RAW_URL_BASE64 = re.compile(r"[A-Za-z0-9_-]*\Z")
_JSON_TYPES = ("application/json", "text/json")

#: What a datastore lookup returns: ``(value, content type)``, or None when missing.
DatastoreItem = tuple[str | bytes, str]


def _whole(value: Any, name: str) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"{name}: expected an integer, not {type(value).__name__}")


def random_int(upper: Any) -> int:
    """``randomInt(n)``: a random integer in [0, n); n must be positive."""
    bound = _whole(upper, "randomInt")
    if bound <= 0:
        raise ValueError("invalid argument to Intn")
    return current_rng().randrange(bound)


def random_alpha(length: Any) -> str:
    """``randomAlpha(n)``: n random letters from a-z and A-Z."""
    size = _whole(length, "randomAlpha")
    if size < 0:
        raise ValueError("word length must be non-negative")
    check_size(size, "randomAlpha result")
    return "".join(current_rng().choices(_ALPHABET, k=size))


def base64_encode(value: Any) -> str:
    """``base64Encode(s)``: URL-safe alphabet, no padding (Go RawURLEncoding)."""
    encoded = base64.urlsafe_b64encode(to_text(value).encode("utf-8"))
    return encoded.rstrip(b"=").decode("ascii")


def base64_decode(value: Any) -> str:
    """``base64Decode(s)``: inverse of base64Encode; padded or invalid input errs."""
    text = to_text(value)
    if _RAW_URL_BASE64.match(text) is None or len(text) % 4 == 1:
        raise ValueError(f"illegal base64 data: '{text}'")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as ex:
        raise ValueError(f"illegal base64 data: '{text}'") from ex
    return raw.decode("utf-8", errors="replace")


def unmarshal_json(value: Any) -> dict[str, Any]:
    """``unmarshalJson(s)``: parse a JSON object string into a map."""
    data = _parse_json(to_text(value))
    if not isinstance(data, dict):
        raise ValueError(f"cannot unmarshal a JSON {type(data).__name__} into a map")
    return data


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as ex:
        raise ValueError(f"invalid JSON: {ex}") from ex


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"invalid JSON: {name} is not a JSON value")


def datastore_unavailable(key: Any) -> NoReturn:
    """Default ``datastore``: the caller passed no lookup for this render."""
    raise LookupError(f"cannot find datastore item key={to_text(key)}: no datastore")


def make_datastore_function(
    get_item: Callable[[str], DatastoreItem | None],
) -> Callable[[Any], Any]:
    """Build ``datastore(key)`` from a lookup returning ``(value, content_type)``.

    JSON items (content type ``application/json`` or ``text/json``) come back as a
    map, anything else as text, as upstream. A missing item raises LookupError,
    unless a second argument gives the value to use instead (an extension: an
    expired TTL marker then reads as "not there").
    """

    def datastore(key: Any, *default: Any) -> Any:
        name = to_text(key)
        if len(default) > 1:
            raise TypeError("datastore: expected a key and at most one default")
        item = get_item(name)
        if item is None:
            if default:
                return default[0]
            raise LookupError(f"cannot find datastore item key={name}: not found")
        value, content_type = item
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if not content_type.startswith(_JSON_TYPES):
            return text
        try:
            data = _parse_json(text)
        except ValueError as ex:
            raise ValueError(f"cannot unmarshal datastore item key={name}") from ex
        if not isinstance(data, dict):
            raise ValueError(f"cannot unmarshal datastore item key={name}")
        return data

    return datastore


def secret_unavailable(key: Any) -> NoReturn:
    """Default ``secret``: the caller passed no lookup for this render."""
    raise LookupError(f"cannot find secret key={to_text(key)}: no datastore")


def make_secret_function(
    reveal: Callable[[str], str | None],
) -> Callable[[Any], str]:
    """Build ``secret(key)`` from a lookup returning a secret's text, or None.

    The value is always text (never parsed as JSON); a missing secret raises
    LookupError.
    """

    def secret(key: Any) -> str:
        name = to_text(key)
        value = reveal(name)
        if value is None:
            raise LookupError(f"cannot find secret key={name}: not found")
        return value

    return secret


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "randomInt": random_int,
    "randomAlpha": random_alpha,
    "base64Encode": base64_encode,
    "base64Decode": base64_decode,
    "unmarshalJson": unmarshal_json,
    "datastore": datastore_unavailable,
    "secret": secret_unavailable,
}
