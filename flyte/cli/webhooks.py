"""``flyte webhooks``: apply webhook files, list, show and delete webhooks."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from flyte.cli.flows import CONTENT_TYPES
from flyte.cli.flows import apply_files
from flyte.cli.flows import document_files
from flyte.cli.output import print_error
from flyte.cli.output import print_json
from flyte.cli.output import print_table
from flyte.cli.session import Session
from flyte.cli.session import api_path
from flyte.cli.session import delete_document
from flyte.cli.session import show_document
from flyte.sdk.errors import ResourceNotFound


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``flyte webhooks apply|list|get|delete``."""
    webhooks = commands.add_parser(
        "webhooks", help="configure webhooks (GitHub, GitLab, signed HTTP senders)"
    )
    actions = webhooks.add_subparsers(dest="action", required=True)
    apply_ = actions.add_parser(
        "apply",
        parents=[common],
        help="put webhook files (YAML or JSON, each naming its webhook)",
    )
    apply_.add_argument("paths", nargs="+", metavar="FILE|DIR")
    apply_.set_defaults(handler=apply)
    actions.add_parser("list", parents=[common], help="every webhook").set_defaults(
        handler=list_webhooks
    )
    for name, handler, what in (("get", get, "show"), ("delete", delete, "delete")):
        parser = actions.add_parser(
            name, parents=[common], help=f"{what} one webhook's configuration"
        )
        parser.add_argument("name")
        parser.set_defaults(handler=handler)


def apply(args: argparse.Namespace, session: Session) -> int:
    """Put every file's configuration, keep going after a rejection; 1 if any was."""
    files = document_files(args.paths, "webhook file", _not_a_webhook_file)
    return apply_files(session, files, _apply_file)


def _not_a_webhook_file(path: Path) -> str:
    return f"not a directory or a .yaml, .yml or .json file: {path}"


def _apply_file(session: Session, path: Path) -> tuple[bool, Any]:
    try:
        content = path.read_bytes()
        name = _webhook_name(content)
    except (OSError, yaml.YAMLError) as ex:
        print_error(f"{path}: cannot read: {ex}")
        return False, {"file": str(path), "error": str(ex)}
    if name is None:
        print_error(f"{path}: has no name: (the webhook's name) at its top")
        return False, {"file": str(path), "error": "no name"}
    headers = {"Content-Type": CONTENT_TYPES[path.suffix.lower()]}
    response = session.client.request(
        "PUT",
        api_path("webhooks", name, "config"),
        expect=(200, 201, 400, 413),
        content=content,
        headers=headers,
    )
    body = response.json()
    if response.status_code not in (200, 201):
        reason = body.get("description", body) if isinstance(body, dict) else body
        print_error(f"{path}: rejected ({response.status_code}): {reason}")
        return False, body
    if not session.json:
        print(f"applied webhook {name} ({path})")
    return True, body


def _webhook_name(content: bytes) -> str | None:
    """The ``name`` a webhook file gives (YAML reads JSON too), or None."""
    document = yaml.safe_load(content)
    name = document.get("name") if isinstance(document, dict) else None
    return name if isinstance(name, str) and name else None


def list_webhooks(args: argparse.Namespace, session: Session) -> int:
    """A table of every webhook: name, pseudo-pack, signature and delivery URL."""
    body = session.client.get_json("/v1/webhooks")
    if session.json:
        print_json(body)
        return 0
    rows = [
        (hook["name"], hook["pack"], hook["signature"]["type"], _deliver_url(hook))
        for hook in body.get("webhooks", [])
    ]
    print_table(rows, ["NAME", "PACK", "SIGNATURE", "URL"], empty="No webhooks.")
    return 0


def _deliver_url(hook: dict[str, Any]) -> str:
    links = hook.get("links", [])
    return next(
        (str(link["href"]) for link in links if link.get("rel") == "deliver"), ""
    )


def get(args: argparse.Namespace, session: Session) -> int:
    """A webhook's configuration: YAML that ``apply`` takes back, or the JSON."""
    path = api_path("webhooks", args.name, "config")
    return show_document(session, path, ResourceNotFound("webhook", args.name))


def delete(args: argparse.Namespace, session: Session) -> int:
    """Delete a webhook; its deliveries then get 404."""
    path = api_path("webhooks", args.name, "config")
    missing = ResourceNotFound("webhook", args.name)
    return delete_document(session, path, missing, f"deleted webhook {args.name}")
