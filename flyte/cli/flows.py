"""``flyte flows``: apply, list, show, delete, test, pause and resume flows."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from flyte.cli.output import print_error
from flyte.cli.output import print_json
from flyte.cli.output import print_table
from flyte.cli.session import Session
from flyte.cli.session import api_path
from flyte.cli.session import delete_document
from flyte.cli.session import missing_as
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
#: How one file is applied: whether it was accepted, and its answer for --json.
ApplyFile = Callable[[Session, Path], tuple[bool, Any]]


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``flyte flows apply|list|get|delete|test|disable|enable``."""
    flows = commands.add_parser(
        "flows", help="add, list, show, delete, test, pause and resume flows"
    )
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
    _register_test(actions, common)
    for name, enabled, what in (
        ("disable", False, "pause a flow: it starts no new correlations"),
        ("enable", True, "resume a paused flow"),
    ):
        parser = actions.add_parser(name, parents=[common], help=what)
        parser.add_argument("name")
        parser.set_defaults(handler=set_enabled, enabled=enabled)


def _register_test(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    test = actions.add_parser(
        "test",
        parents=[common],
        help="dry-run a flow against an event (exit 0: a step fires, 1: none)",
        description=(
            "Show what a flow would do with an event, storing and queuing nothing."
            " FLOW is a flow file (.yaml, .yml, .json) or a stored flow's name."
            " EVENT_FILE (YAML or JSON) holds packName, packLabels, name and"
            " payload; for a result event also answers: {step, context}, the"
            " action it answers. Exits 0 when a step fires, 1 when none does,"
            " 2 when the flow or event is invalid."
        ),
    )
    test.add_argument("flow", metavar="FLOW_FILE_OR_NAME")
    test.add_argument("--event", required=True, metavar="EVENT_FILE")
    test.set_defaults(handler=test_flow)


def apply(args: argparse.Namespace, session: Session) -> int:
    """Post every file, keep going after a rejection; 1 if any was rejected."""
    files = document_files(args.paths, "flow file", _not_a_flow)
    return apply_files(session, files, _apply_file)


def apply_files(session: Session, files: list[Path], apply_file: ApplyFile) -> int:
    """Apply every file, keep going after a rejection; 1 if any was rejected."""
    answers = [apply_file(session, path) for path in files]
    if session.json:
        print_json([body for _, body in answers])
    return 0 if all(ok for ok, _ in answers) else 1


def document_files(
    paths: list[str], what: str, refusal: Callable[[Path], str]
) -> list[Path]:
    """The files to apply: each file named, and each directory's YAML and JSON by name.

    A path that is neither is refused as ``what``, with ``refusal``'s reason.
    """
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if _is_document(p))
        elif _is_document(path):
            files.append(path)
        else:
            raise ValidationError(what, [Problem("FILE", refusal(path))])
    return files


def _not_a_flow(path: Path) -> str:
    """Why ``path`` cannot be applied: missing, or not a flow file."""
    if not path.exists():
        return f"no such file or directory: {path}"
    return f"not a directory or a .yaml, .yml or .json file: {path}"


def _is_document(path: Path) -> bool:
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
    flows = body.get("flows", [])
    if any(f.get("enabled") is False for f in flows):
        # The state column only when a flow is paused, as upstream's list has none.
        stated = [(f["name"], _state(f), f.get("description", "")) for f in flows]
        print_table(stated, ["NAME", "STATE", "DESCRIPTION"], empty="No flows.")
        return 0
    rows = [(f["name"], f.get("description", "")) for f in flows]
    print_table(rows, ["NAME", "DESCRIPTION"], empty="No flows.")
    return 0


def _state(flow: dict[str, Any]) -> str:
    return "disabled" if flow.get("enabled") is False else "enabled"


def get(args: argparse.Namespace, session: Session) -> int:
    """The latest version of a flow: YAML that ``apply`` takes back, or the JSON."""
    path = api_path("flows", args.name)
    return show_document(session, path, ResourceNotFound("flow", args.name))


def delete(args: argparse.Namespace, session: Session) -> int:
    """Delete a flow; running correlations finish on their version."""
    path, missing = api_path("flows", args.name), ResourceNotFound("flow", args.name)
    return delete_document(session, path, missing, f"deleted flow {args.name}")


def set_enabled(args: argparse.Namespace, session: Session) -> int:
    """Pause or resume a flow; running correlations go on either way."""
    path = api_path("flows", args.name, "enabled")
    with missing_as(ResourceNotFound("flow", args.name)):
        response = session.client.request(
            "PUT", path, expect=(200,), json=bool(args.enabled)
        )
    if session.json:
        print_json({"name": args.name, "enabled": response.json()})
    else:
        print(f"{'enabled' if args.enabled else 'disabled'} flow {args.name}")
    return 0


def test_flow(args: argparse.Namespace, session: Session) -> int:
    """Dry-run the flow; 0 when a step would fire, 1 when none would, 2 if invalid."""
    body = {"flow": _flow_source(args.flow), **_event_request(args.event)}
    response = session.client.request(
        "POST", "/v1/flows/test", expect=(200, 400, 404), json=body
    )
    answer = response.json()
    if response.status_code == 404:
        raise ValidationError(
            "flow", [Problem("FLOW", f"no stored flow {args.flow!r}")]
        )
    if response.status_code == 400:
        print_error(_reason(answer))
        return 2
    if session.json:
        print_json(answer)
    else:
        _print_dry_run(answer)
    return 0 if answer["fired"] else 1


def _flow_source(flow: str) -> Any:
    """A flow file's document, or the name of a stored flow."""
    path = Path(flow)
    if path.suffix.lower() not in CONTENT_TYPES and not path.is_file():
        return flow
    return _read_document(path, "FLOW_FILE")


def _event_request(event_file: str) -> dict[str, Any]:
    """The request's ``event`` (and ``answers``) from the event file."""
    document = _read_document(Path(event_file), "EVENT_FILE")
    if not isinstance(document, dict):
        problem = Problem("EVENT_FILE", f"{event_file}: expected a mapping")
        raise ValidationError("event file", [problem])
    event = {key: value for key, value in document.items() if key != "answers"}
    request: dict[str, Any] = {"event": event}
    if "answers" in document:
        request["answers"] = document["answers"]
    return request


def _read_document(path: Path, what: str) -> Any:
    """A YAML or JSON file's content; a usage error when unreadable or malformed."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as ex:
        problem = Problem(what, f"cannot read {path}: {ex.strerror or ex}")
    except yaml.YAMLError as ex:
        problem = Problem(what, f"{path} is not YAML or JSON: {ex}")
    raise ValidationError(what.lower().replace("_", " "), [problem])


def _print_dry_run(answer: dict[str, Any]) -> None:
    """A line on the flow, then a table of the steps, then what fired steps send."""
    verdict = "a step fires" if answer["fired"] else "no step fires"
    print(f"flow {answer['flow']} ({answer['kind']}): {verdict}")
    if answer.get("note"):
        print(answer["note"])
    steps = answer["steps"]
    rows = [
        (
            s["id"],
            s["status"],
            s.get("reason", ""),
            json.dumps(s["context"], ensure_ascii=False) if "context" in s else "",
            ", ".join(s["undefined"]),
        )
        for s in steps
    ]
    print_table(
        rows, ["STEP", "STATUS", "REASON", "CONTEXT", "UNDEFINED"], empty="No steps."
    )
    for s in steps:
        if "command" in s:
            command = s["command"]
            target = f"{command['packName']}/{command['name']}"
            rendered = json.dumps(command["input"], ensure_ascii=False)
            print(f"{s['id']} sends {target} with input {rendered}")
