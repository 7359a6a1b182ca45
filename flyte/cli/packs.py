"""``flyte packs`` (alias ``pack``): list, show and delete registrations, and run
the example packs that ship with Flyte."""

from __future__ import annotations

import argparse
from typing import Any

from flyte.cli.output import format_labels
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
    """Add ``flyte packs list|get|delete|run``."""
    packs = commands.add_parser(
        "packs", aliases=["pack"], help="registered packs, and the example packs"
    )
    actions = packs.add_subparsers(dest="action", required=True)
    actions.add_parser("list", parents=[common], help="every pack").set_defaults(
        handler=list_packs
    )
    for name, handler, what in (("get", get, "show"), ("delete", delete, "delete")):
        parser = actions.add_parser(name, parents=[common], help=f"{what} one pack")
        parser.add_argument("pack_id", metavar="ID")
        parser.set_defaults(handler=handler)
    _register_run(actions, common)


def _register_run(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    examples = _examples()
    run_ = actions.add_parser(
        "run",
        parents=[common],
        help="run an example pack against the API (FLYTE_API, --api)",
        description="Example packs: "
        + "; ".join(f"{name}: {text}" for name, text in examples.items()),
    )
    run_.add_argument("name", metavar="NAME", choices=list(examples) or None)
    run_.add_argument("pack_args", nargs=argparse.REMAINDER, metavar="ARGS")
    run_.set_defaults(handler=run)


def _examples() -> dict[str, str]:
    try:
        from flyte.packs import EXAMPLES
    except ImportError:  # the examples are optional to the rest of the CLI
        return {}
    return dict(EXAMPLES)


def list_packs(args: argparse.Namespace, session: Session) -> int:
    """A table of every pack: id, name, labels, status and last contact."""
    body = session.client.get_json("/v1/packs")
    if session.json:
        print_json(body)
        return 0
    print_table(
        [_pack_row(pack) for pack in body.get("packs", [])],
        ["ID", "NAME", "LABELS", "STATUS", "LAST SEEN"],
        empty="No packs.",
    )
    return 0


def _pack_row(pack: dict[str, Any]) -> tuple[str, ...]:
    labels = format_labels(pack.get("labels"))
    return (pack["id"], pack.get("name", ""), labels, pack["status"], pack["lastSeen"])


def get(args: argparse.Namespace, session: Session) -> int:
    """One pack, with its commands and events: YAML, or the JSON."""
    path = api_path("packs", args.pack_id)
    return show_document(session, path, ResourceNotFound("pack", args.pack_id))


def delete(args: argparse.Namespace, session: Session) -> int:
    """Remove a pack's registration."""
    missing = ResourceNotFound("pack", args.pack_id)
    path = api_path("packs", args.pack_id)
    return delete_document(session, path, missing, f"deleted pack {args.pack_id}")


def run(args: argparse.Namespace, session: Session) -> int:
    """Run an example pack in the foreground; its own exit status."""
    from flyte.packs import run_example  # imported only when a pack runs

    return run_example(args.name, args.pack_args, session.client_environ)
