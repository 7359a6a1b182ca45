"""The authorization policy: which claims a method and path need (upstream's format).

The policy file is a YAML list of ``{path, methods?, claims?}``. Paths are vestigo
patterns: static segments, ``:param`` (one segment) and ``*`` (the rest).
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from flyte.errors import ConfigError
from flyte.schema import find_problems

#: The variable that names the policy file, quoted in start-up errors.
POLICY_VARIABLE = "FLYTE_AUTH_POLICY_PATH"
#: Methods a policy entry may name (upstream's list).
METHODS = frozenset("CONNECT DELETE GET HEAD OPTIONS PATCH POST PUT TRACE".split())
#: Upstream's ``router.Handle``: an entry without methods covers all but these.
DEFAULT_METHODS = METHODS - {"HEAD", "OPTIONS", "TRACE"}

Claims = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Rule:
    """One policy entry: a path pattern, its methods and the claims it needs."""

    path: str
    methods: frozenset[str] = DEFAULT_METHODS
    claims: Claims = field(default_factory=dict)

    @property
    def segments(self) -> list[str]:
        """The pattern split into path segments (without the leading slash)."""
        return self.path.lstrip("/").split("/")

    def allows(self, method: str) -> bool:
        """True for a method the rule names; HEAD follows GET (a GET without body)."""
        method = method.upper()
        return method in self.methods or (method == "HEAD" and "GET" in self.methods)


@dataclass(frozen=True)
class Match:
    """The rule that covers a request, with the path parameters it captured."""

    rule: Rule
    params: Mapping[str, str]


class Policy:
    """A set of rules; ``find`` picks the closest route like upstream's router."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = list(rules)

    def find(self, method: str, path: str, *, escaped: bool = False) -> Match | None:
        """The rule for ``method`` on the closest route (static > param > wildcard).

        Entries with the same path share one route, as in upstream's router;
        a route without ``method`` is no match, even if a looser one has it.
        A rule that allows GET allows HEAD too (unlike upstream, which answers
        401; see docs/compatibility.md). An ``escaped`` path's segments are
        percent-decoded once split, so a ``%2F`` stays inside its segment.
        """
        segments = path.lstrip("/").split("/")
        if escaped:
            segments = [unquote(segment) for segment in segments]
        found = [
            (m[0], rule, m[1])
            for rule in self._rules
            if (m := _match(rule.segments, segments)) is not None
        ]
        if not found:
            return None
        best = max(score for score, _, _ in found)
        for score, rule, params in reversed(found):  # a later entry wins
            if score == best and rule.allows(method):
                return Match(rule, params)
        return None


def is_fulfilled(
    claims: Claims, token_claims: Mapping[str, Any], params: Mapping[str, str]
) -> bool:
    """True when no claims are needed, or any one policy claim is in the token.

    Names and values starting with ``:`` are replaced by the path parameter of
    that name (a missing parameter becomes ``""``), as upstream does.
    """
    if not claims:
        return True
    for name, values in claims.items():
        wanted = {_substitute(value, params) for value in values}
        if _claim_matches(token_claims.get(_substitute(name, params)), wanted):
            return True
    return False


def load_policy(path: str | Path) -> Policy:
    """Read and check a policy file; any problem is a ConfigError naming it."""
    try:
        text = Path(path).read_text()
    except OSError as ex:
        raise ConfigError(POLICY_VARIABLE, f"cannot read {str(path)!r}: {ex}") from ex
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as ex:
        mark = getattr(ex, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            POLICY_VARIABLE, f"{str(path)!r}{where}: not valid YAML: {ex}"
        ) from ex
    return parse_policy(document, str(path))


def parse_policy(document: Any, source: str = "policy") -> Policy:
    """Check the parsed YAML list of entries (flyte/schemas/policy.json) and
    build a Policy; every problem found is named in one ConfigError."""
    problems = find_problems(document, "policy")
    if problems:
        raise ConfigError(
            POLICY_VARIABLE, f"{source!r}: " + "; ".join(map(str, problems))
        )
    return Policy(_rule(entry) for entry in document)


def _rule(entry: dict[str, Any]) -> Rule:
    methods = entry.get("methods")
    return Rule(
        entry["path"],
        DEFAULT_METHODS if methods is None else frozenset(methods),
        {
            # YAML reads `true` and `1` as bool and int; upstream compares strings.
            str(name): tuple(_as_text(value) for value in values)
            for name, values in (entry.get("claims") or {}).items()
        },
    )


def _as_text(value: str | bool | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _match(
    pattern: list[str], segments: list[str], at: int = 0, start: int = 0
) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """Match ``pattern[at:]`` against ``segments[start:]``; the score ranks
    static 2 > param 1 > wildcard 0 at the first segment where routes differ.

    Indices, not slices: a request path may have thousands of segments, and
    the recursion depth is bounded by the (short) pattern.
    """
    if at == len(pattern):
        return ((), {}) if start == len(segments) else None
    head = pattern[at]
    if head == "*":
        # The wildcard takes one or more segments; later segments may follow it.
        if at + 1 == len(pattern):
            return ((0,), {}) if start < len(segments) else None
        for end in range(len(segments), start, -1):
            found = _match(pattern, segments, at + 1, end)
            if found is not None:
                return (0, *found[0]), found[1]
        return None
    if start == len(segments):
        return None
    segment = segments[start]
    is_param = head.startswith(":")
    if segment != head and not (is_param and segment):
        return None
    found = _match(pattern, segments, at + 1, start + 1)
    if found is None:
        return None
    if is_param:
        return (1, *found[0]), {head[1:]: segment, **found[1]}
    return (2, *found[0]), found[1]


def _substitute(text: str, params: Mapping[str, str]) -> str:
    return params.get(text[1:], "") if text.startswith(":") else text


def _claim_matches(value: Any, wanted: set[str]) -> bool:
    # bool before int: a JSON true is a Python bool, which is also an int.
    if isinstance(value, bool):
        return ("true" if value else "false") in wanted
    if isinstance(value, str):
        return value in wanted
    if isinstance(value, int):
        return str(value) in wanted
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return not wanted.isdisjoint(value)
    return False
