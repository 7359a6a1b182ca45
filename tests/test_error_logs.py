"""Every ERROR line the server processes log names the event, action or correlation.

An operator reading an ERROR line must be able to find what it is about. This
scans the server packages' source for ``logger.error``, ``logger.exception`` and
``logger.critical`` calls and checks that each message names an id.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: The server processes' code: the API, the workers and the scheduler, the core.
SERVER_PACKAGES = ("api", "workers", "flyte")
#: Client-side code (packs, the SDK, the CLI) logs in the pack's own process.
CLIENT_SIDE = ("flyte/sdk", "flyte/packs", "flyte/cli")
ERROR_METHODS = {"error", "exception", "critical"}
IDS = ("event=", "action=", "correlation=")
#: Calls whose ids are not in their format string, and where they come from.
NAMED_ELSEWHERE = {
    "api/errors.py": "the request's path parameters and log ids, as key=value pairs",
}


def server_sources() -> Iterator[Path]:
    for package in SERVER_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(CLIENT_SIDE):
                yield path


def error_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ERROR_METHODS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("logger", "log", "logging")
        ):
            yield node


def names_an_id(call: ast.Call) -> bool:
    first = call.args[0] if call.args else None
    return (
        isinstance(first, ast.Constant)
        and isinstance(first.value, str)
        and any(name in first.value for name in IDS)
    )


def test_every_server_error_line_names_an_event_action_or_correlation() -> None:
    anonymous = [
        f"{path.relative_to(ROOT)}:{call.lineno}"
        for path in server_sources()
        for call in error_calls(ast.parse(path.read_text(), str(path)))
        if not names_an_id(call)
        and path.relative_to(ROOT).as_posix() not in NAMED_ELSEWHERE
    ]
    assert anonymous == [], "ERROR lines that name no event, action or correlation"


def test_the_scan_finds_the_error_lines_it_checks() -> None:
    # Guard against a scan that silently checks nothing.
    found = [
        call
        for path in server_sources()
        for call in error_calls(ast.parse(path.read_text(), str(path)))
    ]
    assert len(found) >= 3
