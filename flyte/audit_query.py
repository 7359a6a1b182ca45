"""What ``GET /v1/audit/flows`` asks for: filters on actions, and the page.

Pure parsing of the query parameters, shared by the audit (which assembles
executions) and the audit store (which finds them), so neither imports the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

from flyte.errors import InvalidAuditQuery
from flyte.errors import Problem

#: Executions per page when ``limit`` is not given (upstream's default).
DEFAULT_LIMIT = 50
#: The largest page; a larger ``limit`` is lowered to it.
MAX_LIMIT = 500
#: The largest ``start``: MongoDB's ``$skip`` takes a 64-bit integer.
MAX_START = 2**63 - 1
#: Query parameters are URL text: one value, or several when repeated.
Params = Mapping[str, str | Sequence[str]]
_DIGITS = re.compile(r"[0-9]+")


@dataclass(frozen=True)
class AuditQuery:
    """Which executions to list: filters on their actions, and the page."""

    flow_name: str | None = None
    step_id: str | None = None
    action_name: str | None = None
    action_pack_name: str | None = None
    action_pack_labels: Mapping[str, str] = field(default_factory=dict)
    start: int = 0
    limit: int = DEFAULT_LIMIT


def parse_audit_query(params: Params) -> AuditQuery:
    """Read ``GET /v1/audit/flows`` parameters as upstream does, but strictly paged.

    Empty filters are ignored. ``start`` and ``limit`` must be decimal integers
    (``start`` >= 0, ``limit`` >= 1, lowered to ``MAX_LIMIT``); otherwise raise
    InvalidAuditQuery, where upstream fell back to the default or failed with 500.
    """
    problems: list[Problem] = []
    start = _integer(params, "start", 0, 0, problems)
    limit = _integer(params, "limit", DEFAULT_LIMIT, 1, problems)
    labels = parse_labels(_first(params, "actionPackLabels"))
    problems += [
        Problem("actionPackLabels", f"the label {key!r} cannot be queried")
        for key in labels
        if "." in key or key.startswith("$")
    ]
    if problems:
        raise InvalidAuditQuery(problems)
    return AuditQuery(
        flow_name=_first(params, "flowName") or None,
        step_id=_first(params, "stepId") or None,
        action_name=_first(params, "actionName") or None,
        action_pack_name=_first(params, "actionPackName") or None,
        action_pack_labels=labels,
        start=start,
        limit=min(limit, MAX_LIMIT),
    )


def parse_labels(text: str) -> dict[str, str]:
    """Parse ``k:v,k2:v2`` labels as upstream does.

    Pairs are split on ``,`` then on ``:`` and kept only with exactly two parts,
    both trimmed. Unlike upstream, a pair with an empty key is dropped.
    """
    labels = {}
    for pair in text.split(","):
        parts = [part.strip() for part in pair.split(":")]
        if len(parts) == 2 and parts[0]:
            labels[parts[0]] = parts[1]
    return labels


def _first(params: Params, name: str) -> str:
    """The parameter's value, the first one when it is repeated (as Go's Get)."""
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value or ""
    return value[0] if value else ""


def _integer(
    params: Params, name: str, default: int, minimum: int, problems: list[Problem]
) -> int:
    """A decimal integer of at least ``minimum``, at most ``MAX_START``."""
    text = _first(params, name)
    if not text:
        return default
    # Python refuses to convert very long digit strings; they are huge anyway.
    value = int(text) if _DIGITS.fullmatch(text) and len(text) <= 19 else MAX_START
    if _DIGITS.fullmatch(text) and value >= minimum:
        return min(value, MAX_START)
    problems.append(Problem(name, f"must be an integer of at least {minimum}"))
    return default
