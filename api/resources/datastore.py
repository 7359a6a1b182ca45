"""The datastore: /v1/datastore and /v1/datastore/{key} (docs/upstream.md#datastore).

Items are uploaded as ``multipart/form-data`` (a ``value`` part and optional
``description``, ``secret`` and ``ttl`` fields) and read back as the raw bytes with
their content type. A secret item's value is never served by
``GET /v1/datastore/{key}``: only by ``GET /v1/datastore/{key}/secret-value``, and
only with auth on, to whom the policy grants that path (docs/datastore.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import falcon
from falcon.media.multipart import BodyPart

from api.links import Links
from api.views import datastore_list_view
from flyte.clock import to_millis
from flyte.clock import utcnow
from flyte.datastore import new_item
from flyte.datastore import parse_secret_flag
from flyte.datastore import parse_ttl
from flyte.errors import InvalidDatastoreItem
from flyte.errors import PayloadTooLarge
from flyte.errors import Problem
from flyte.secrets import SecretValueWithheld
from flyte.store.actions import ActionStore
from flyte.store.datastore import DatastoreStore

#: Room in a request body for the multipart framing and the description.
FORM_OVERHEAD_BYTES = 64 * 1024
_MULTIPART = "multipart/form-data"
#: A part's Content-Type header, as Falcon keys its parsed part headers.
_PART_TYPE_HEADER = b"content-type"


class DatastoreResource:
    """``/v1/datastore``: list the items."""

    def __init__(self, datastore: DatastoreStore) -> None:
        self._datastore = datastore

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Every item sorted by key, without values."""
        resp.media = datastore_list_view(self._datastore.list_items(), Links.of(req))


class DatastoreItemResource:
    """``/v1/datastore/{key}``: store, read and delete one item."""

    def __init__(self, datastore: DatastoreStore, max_bytes: int) -> None:
        self._datastore = datastore
        self._max_bytes = max_bytes

    def on_get(self, req: falcon.Request, resp: falcon.Response, key: str) -> None:
        """The raw value with its stored content type; Accept is ignored.

        A secret item answers 401: its value is served only at ``/secret-value``.
        """
        item = self._datastore.get(key)
        if item.secret:
            raise SecretValueWithheld(
                f"datastore item {key!r} is a secret: its value is served only by "
                f"GET /v1/datastore/{{key}}/secret-value, with auth on"
            )
        resp.content_type = item.content_type
        resp.data = item.value

    def on_put(self, req: falcon.Request, resp: falcon.Response, key: str) -> None:
        """Store the uploaded value; 201 when the key is new, 204 when replaced."""
        upload = read_upload(req, self._max_bytes)
        item = new_item(
            key,
            upload.value,
            upload.content_type,
            upload.description,
            self._max_bytes,
            secret=parse_secret_flag(upload.secret),
            ttl_seconds=parse_ttl(upload.ttl),
            now_ms=to_millis(utcnow()),
        )
        created = self._datastore.put(item)
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_204

    def on_delete(self, req: falcon.Request, resp: falcon.Response, key: str) -> None:
        """Remove the item."""
        self._datastore.delete(key)
        resp.status = falcon.HTTP_204


class DatastoreSecretValueResource:
    """``/v1/datastore/{key}/secret-value``: a secret's plaintext, with auth on only.

    With auth off there is no policy to keep this path to a few, so it refuses
    (401): secrets are then write-only, read by flows and webhooks alone.
    """

    def __init__(self, datastore: DatastoreStore, auth_enabled: bool) -> None:
        self._datastore = datastore
        self._auth_enabled = auth_enabled

    def on_get(self, req: falcon.Request, resp: falcon.Response, key: str) -> None:
        """The secret's value with its stored content type."""
        if not self._auth_enabled:
            raise SecretValueWithheld(
                "secret values are served only with auth on: the auth policy "
                "decides who may GET /v1/datastore/{key}/secret-value"
            )
        item = self._datastore.get(key)
        value = self._datastore.reveal_secret(key)
        resp.content_type = item.content_type
        resp.data = value.encode("utf-8")
        resp.cache_control = ["no-store"]


@dataclass
class Upload:
    """What a PUT form carried; ``value`` holds at most one byte past the limit."""

    value: bytes = b""
    content_type: str | None = None
    description: str | None = None
    secret: str | None = None
    ttl: str | None = None


def read_upload(req: falcon.Request, max_bytes: int) -> Upload:
    """Read the ``value`` and ``description`` parts, never more than the limit."""
    media_type = (req.content_type or "").split(";")[0].strip().lower()
    if media_type != _MULTIPART:
        problem = f"the body must be {_MULTIPART}, not {media_type or 'untyped'}"
        raise InvalidDatastoreItem([Problem("$", problem)])
    body_limit = max_bytes + FORM_OVERHEAD_BYTES
    if req.content_length is not None and req.content_length > body_limit:
        raise PayloadTooLarge("the request body", body_limit)
    try:
        upload = _read_parts(req, max_bytes)
    except falcon.HTTPError as ex:  # MultipartParseError, or a bad boundary
        problem = f"unreadable multipart form: {ex.description or ex.title}"
        raise InvalidDatastoreItem([Problem("$", problem)]) from ex
    except UnicodeDecodeError as ex:  # Falcon decodes part headers as ASCII
        problem = "unreadable multipart form: part headers must be ASCII"
        raise InvalidDatastoreItem([Problem("$", problem)]) from ex
    if upload is None:
        problem = "the form has no part named 'value'"
        raise InvalidDatastoreItem([Problem("value", problem)])
    return upload


def _read_parts(req: falcon.Request, max_bytes: int) -> Upload | None:
    upload, has_value = Upload(), False
    for part in req.get_media():
        if part.name == "value" and not has_value:
            # One byte past the limit tells "too large" without reading the rest.
            upload.value = part.stream.read(max_bytes + 1)
            upload.content_type = _content_type(part)
            has_value = True
        elif part.name == "description" and upload.description is None:
            upload.description = part.get_text() or ""
        elif part.name == "secret" and upload.secret is None:
            upload.secret = part.get_text() or ""
        elif part.name == "ttl" and upload.ttl is None:
            upload.ttl = part.get_text() or ""
    return upload if has_value else None


def _content_type(part: BodyPart) -> str | None:
    """The part's Content-Type as sent; None (upstream's default) when it has none."""
    # Falcon's ``content_type`` reports a missing header as text/plain (RFC 7578)
    # and it has no public accessor for the raw headers; only a part without the
    # header gets upstream's default, so an explicit text/plain is kept as sent.
    if _PART_TYPE_HEADER not in part._headers:
        return None
    return part.content_type.strip() or None


class SecretsRekeyResource:
    """``/v1/secrets/rekey``: re-encrypt every secret under the current key."""

    def __init__(
        self, datastore: DatastoreStore, actions: ActionStore | None = None
    ) -> None:
        self._datastore = datastore
        self._actions = actions

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Rotate every secret; after it, FLYTE_SECRETS_OLD_KEYS can be emptied.

        The count includes the actions stored encrypted because they hold a secret.
        """
        rekeyed = self._datastore.rekey()
        if self._actions is not None:
            rekeyed += self._actions.rekey()
        resp.media = {"rekeyed": rekeyed}
