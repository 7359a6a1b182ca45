"""``flyte flows``: apply flow files, list, show and delete flows."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flyte.cli.output import print_error
from flyte.cli.output import print_json
from flyte.cli.output import print_table
from flyte.cli.session import Session
from flyte.cli.session import api_path
from flyte.cli.session import delete_document
from flyte.cli.session import show_document
from flyte.contract.errors import Problem
from flyte.contract.errors import ValidationError
from flyte.sdk.errors import ResourceNotFound

#: The body type of each flow file suffix (the API reads YAML as application/x-yaml).
CONTENT_TYPES = {
    ".yaml": "application/x-yaml",
    ".yml": "application/x-yaml",
    ".json": "application/json",
}


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``flyte flows apply|list|get|delete``."""
    flows = commands.add_parser("flows", help="add, list, show and delete flows")
    actions = flows.add_subparsers(dest="action", required=True)
    apply_ = actions.add_parser(
        "apply", parents=[common], help="post flow files (a directory: its flows)"
    )
    apply_.add_argument("paths", nargs="+", metavar="FILE|DIR")
    apply_.set_defaults(handler=apply)
    actions.add_parser("list", parents=[common], help="every flow").set_defaults(
        handler=list_flows
    )
    for name, handler, what in (("get", get, "show"), ("delete", delete, "delete")):
        parser = actions.add_parser(name, parents=[common], help=f"{what} one flow")
        parser.add_argument("name")
        parser.set_defaults(handler=handler)


def apply(args: argparse.Namespace, session: Session) -> int:
    """Post every file, keep going after a rejection; 1 if any was rejected."""
    answers = [_apply_file(session, path) for path in flow_files(args.paths)]
    if session.json:
        print_json([body for _, body in answers])
    return 0 if all(ok for ok, _ in answers) else 1


def flow_files(paths: list[str]) -> list[Path]:
    """The files to apply: each file named, and each directory's flow files by name."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if _is_flow_file(p))
        elif path.is_file() and path.suffix.lower() in CONTENT_TYPES:
            files.append(path)
        else:
            raise ValidationError("flow file", [Problem("FILE", _not_a_flow(path))])
    return files


def _not_a_flow(path: Path) -> str:
    """Why ``path`` cannot be applied: missing, or not a flow file."""
    if not path.exists():
        return f"no such file or directory: {path}"
    return f"not a directory or a .yaml, .yml or .json file: {path}"


def _is_flow_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in CONTENT_TYPES


def _apply_file(session: Session, path: Path) -> tuple[bool, Any]:
    try:
        content = path.read_bytes()
    except OSError as ex:
        print_error(f"{path}: cannot read: {ex.strerror or ex}")
        return False, {"file": str(path), "error": str(ex)}
    headers = {"Content-Type": CONTENT_TYPES[path.suffix.lower()]}
    response = session.client.request(
        "POST", "/v1/flows", expect=(201, 400, 413), content=content, headers=headers
    )
    body = response.json()
    if response.status_code != 201:
        print_error(f"{path}: rejected ({response.status_code}): {_reason(body)}")
        return False, body
    if not session.json:
        print(f"applied {body['name']} ({path})")
    return True, body


def _reason(body: Any) -> str:
    if isinstance(body, dict) and body.get("description"):
        return str(body["description"])
    return str(body)


def list_flows(args: argparse.Namespace, session: Session) -> int:
    """A table of every flow's name and description."""
    body = session.client.get_json("/v1/flows")
    if session.json:
        print_json(body)
        return 0
    rows = [(f["name"], f.get("description", "")) for f in body.get("flows", [])]
    print_table(rows, ["NAME", "DESCRIPTION"], empty="No flows.")
    return 0


def get(args: argparse.Namespace, session: Session) -> int:
    """The latest version of a flow: YAML that ``apply`` takes back, or the JSON."""
    path = api_path("flows", args.name)
    return show_document(session, path, ResourceNotFound("flow", args.name))


def delete(args: argparse.Namespace, session: Session) -> int:
    """Delete a flow; running correlations finish on their version."""
    path, missing = api_path("flows", args.name), ResourceNotFound("flow", args.name)
    return delete_document(session, path, missing, f"deleted flow {args.name}")
