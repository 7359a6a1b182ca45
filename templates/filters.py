"""Upstream Flyte's custom filters, with the semantics of Go ``template/pongo.go``."""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from jinja2 import Undefined

from templates.cron import matches_cron
from templates.patterns import PatternError
from templates.patterns import compile_pattern
from templates.values import to_int
from templates.values import to_text

# Go's \s is ASCII-only: NBSP is left for safecopypaste.
_GO_WHITESPACE = re.compile(r"[\t\n\f\r ]+")


def key(value: Any, name: Any) -> Any:
    """``map|key:K``: the value under ``str(K)``; nil if missing; error on non-maps."""
    if value is None or isinstance(value, Undefined):
        return None
    if not isinstance(value, Mapping):
        raise TypeError(f"key: value must be a map, not {type(value).__name__}")
    return value.get(to_text(name))


def match(value: Any, pattern: Any) -> bool:
    """``s|match:RE``: unanchored regex search; an invalid pattern is simply False."""
    try:
        compiled = compile_pattern(to_text(pattern))
    except PatternError:
        return False
    return compiled.search(to_text(value)) is not None


def extract_match(value: Any, pattern: Any) -> str:
    """``s|extractMatch:RE``: the first group of the first match, else ``s`` itself."""
    text = to_text(value)
    compiled = compile_pattern(to_text(pattern))
    found = compiled.search(text)
    if found is None or compiled.groups < 1:
        return text
    return found.group(1) or ""


def kvp(value: Any) -> dict[str, str]:
    """``"a=1, b=2"|kvp``: a map of the comma-separated pieces with exactly one '='."""
    pairs: dict[str, str] = {}
    for piece in to_text(value).split(","):
        parts = piece.split("=")
        if len(parts) == 2:
            pairs[parts[0].strip()] = parts[1].strip()
    return pairs


def index(value: Any, position: Any) -> Any:
    """``x|index:N``: the N-th item or character; past the end is empty; N < 0 errs."""
    if not isinstance(value, (list, tuple, str)) or not value:
        return ""
    at = to_int(position)
    if at < 0:
        raise IndexError(f"index: negative index {at}")
    if at >= len(value):
        return "" if isinstance(value, str) else None
    return value[at]


def matches_cron_filter(value: Any, expression: Any) -> bool:
    """``timestamp|matchesCron:EXPR``: is the RFC 3339 timestamp due for EXPR?"""
    return matches_cron(to_text(value), to_text(expression))


def remove_dup_whitespaces(value: Any) -> str:
    """Collapse whitespace runs to one space and drop trailing spaces (not leading)."""
    return _GO_WHITESPACE.sub(" ", to_text(value)).rstrip(" ")


def safe_copy_paste(value: Any) -> str:
    """Replace non-breaking spaces (U+00A0) with plain spaces."""
    return to_text(value).replace("\u00a0", " ")


FILTERS: dict[str, Callable[..., Any]] = {
    "key": key,
    "match": match,
    "extractMatch": extract_match,
    "kvp": kvp,
    "index": index,
    "matchesCron": matches_cron_filter,
    "removedupwhitespaces": remove_dup_whitespaces,
    "safecopypaste": safe_copy_paste,
}

TESTS: dict[str, Callable[..., Any]] = {"match": match}
