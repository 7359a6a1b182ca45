"""``flyte datastore``: the reference data that flows read with ``datastore()``.

Every command talks to the API; ``rekey`` asks the server, which alone holds
FLYTE_SECRETS_KEY, to re-encrypt the secrets, and ``new-key`` makes a key locally.
"""

from __future__ import annotations

import argparse
import base64
import mimetypes
import secrets
from pathlib import Path
from typing import Any

from flyte.cli.options import read_bytes
from flyte.cli.output import print_json
from flyte.cli.output import print_table
from flyte.cli.output import write_bytes
from flyte.cli.session import Session
from flyte.cli.session import api_path
from flyte.cli.session import delete_document
from flyte.cli.session import missing_as
from flyte.sdk.errors import ResourceNotFound

#: The type of a ``--value``: the text is sent UTF-8 encoded.
TEXT_TYPE = "text/plain; charset=utf-8"
#: The type of a ``--file`` whose type cannot be guessed from its name.
DEFAULT_FILE_TYPE = "application/octet-stream"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``flyte datastore put|get|list|delete|rekey|new-key``."""
    datastore = commands.add_parser("datastore", help="store and read datastore items")
    actions = datastore.add_subparsers(dest="action", required=True)
    put_ = actions.add_parser("put", parents=[common], help="store (replace) an item")
    put_.add_argument("key", metavar="KEY")
    value = put_.add_mutually_exclusive_group(required=True)
    value.add_argument("--value", metavar="TEXT", help="the value, as text")
    value.add_argument("--file", metavar="PATH", help="the value: a file's bytes")
    put_.add_argument("--content-type", metavar="TYPE", help="the value's type")
    put_.add_argument("--description", metavar="TEXT")
    put_.add_argument(
        "--secret",
        action="store_true",
        help="encrypt the value at rest; flows read it with secret('KEY')",
    )
    put_.add_argument(
        "--ttl", metavar="SECONDS", type=int, help="delete the item after this long"
    )
    put_.set_defaults(handler=put)
    for name, handler, what in (("get", get, "print"), ("delete", delete, "delete")):
        parser = actions.add_parser(name, parents=[common], help=f"{what} one item")
        parser.add_argument("key", metavar="KEY")
        parser.set_defaults(handler=handler)
    actions.add_parser("list", parents=[common], help="every item").set_defaults(
        handler=list_items
    )
    actions.add_parser(
        "rekey",
        parents=[common],
        help="re-encrypt every secret under the server's FLYTE_SECRETS_KEY",
    ).set_defaults(handler=rekey)
    actions.add_parser(
        "new-key", help="print a new random key for FLYTE_SECRETS_KEY"
    ).set_defaults(handler=new_key)


def put(args: argparse.Namespace, session: Session) -> int:
    """Upload the item as a multipart form; 'created' or 'replaced'."""
    value, content_type = _value(args)
    data = {"description": args.description} if args.description is not None else {}
    if args.secret:
        data["secret"] = "true"
    if args.ttl is not None:
        data["ttl"] = str(args.ttl)
    response = session.client.request(
        "PUT",
        api_path("datastore", args.key),
        expect=(201, 204),
        files={"value": (_filename(args), value, content_type)},
        data=data,
    )
    if not session.json:
        verb = "created" if response.status_code == 201 else "replaced"
        kind = ", secret" if args.secret else ""
        print(f"{verb} {args.key} ({content_type}, {len(value)} bytes{kind})")
    return 0


def _value(args: argparse.Namespace) -> tuple[bytes, str]:
    if args.file is None:
        return args.value.encode("utf-8"), args.content_type or TEXT_TYPE
    guessed, _ = mimetypes.guess_type(args.file)
    return read_bytes(args.file, "--file"), (
        args.content_type or guessed or DEFAULT_FILE_TYPE
    )


def _filename(args: argparse.Namespace) -> str:
    return Path(args.file).name if args.file else args.key


def get(args: argparse.Namespace, session: Session) -> int:
    """The raw value on stdout; with --json, the item's entry in the list."""
    if session.json:
        print_json(_entry(session, args.key))
        return 0
    with missing_as(ResourceNotFound("datastore item", args.key)):
        response = session.client.request(
            "GET", api_path("datastore", args.key), expect=(200,)
        )
    write_bytes(response.content)
    return 0


def _entry(session: Session, key: str) -> dict[str, Any]:
    # GET of an item answers only its bytes: the metadata is in the list.
    for item in session.client.get_json("/v1/datastore").get("datastore", []):
        if item.get("key") == key:
            return dict(item)
    raise ResourceNotFound("datastore item", key)


def list_items(args: argparse.Namespace, session: Session) -> int:
    """A table of every item's key, content type and description (no values)."""
    body = session.client.get_json("/v1/datastore")
    if session.json:
        print_json(body)
        return 0
    items = body.get("datastore", [])
    # The SECRET and EXPIRES columns only when some item has one.
    extra = [
        (header, field)
        for header, field in (("SECRET", "secret"), ("EXPIRES", "expiresAt"))
        if any(item.get(field) for item in items)
    ]
    rows = [
        (
            item["key"],
            item.get("contentType", ""),
            *(_cell(item.get(field)) for _, field in extra),
            item.get("description", ""),
        )
        for item in items
    ]
    headers = ["KEY", "CONTENT TYPE", *(h for h, _ in extra), "DESCRIPTION"]
    print_table(rows, headers, empty="No items.")
    return 0


def _cell(value: Any) -> str:
    if value is True:
        return "secret"
    return "" if value is None else str(value)


def delete(args: argparse.Namespace, session: Session) -> int:
    """Remove an item; flows that read it get an error from then on."""
    path = api_path("datastore", args.key)
    missing = ResourceNotFound("datastore item", args.key)
    return delete_document(session, path, missing, f"deleted {args.key}")


def rekey(args: argparse.Namespace, session: Session) -> int:
    """Ask the server to re-encrypt every secret under its current key."""
    body = session.client.request("POST", "/v1/secrets/rekey", expect=(200,)).json()
    if session.json:
        print_json(body)
    else:
        print(
            f"re-encrypted {body.get('rekeyed', 0)} secret(s) under FLYTE_SECRETS_KEY"
        )
    return 0


def new_key(args: argparse.Namespace, session: Session) -> int:
    """Print a new random key for FLYTE_SECRETS_KEY (a Fernet key: 32 random bytes)."""
    print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii"))
    return 0
