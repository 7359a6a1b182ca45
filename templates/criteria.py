"""Criteria: a rendered template read as a boolean with Go's strconv.ParseBool rules."""

from __future__ import annotations

_TRUE = frozenset(("1", "t", "T", "TRUE", "true", "True"))
_FALSE = frozenset(("0", "f", "F", "FALSE", "false", "False"))


def parse_bool(rendered: str) -> bool | None:
    """The boolean ``rendered`` spells (surrounding whitespace allowed), else None."""
    if rendered in _TRUE:
        return True
    if rendered in _FALSE:
        return False
    text = rendered.strip()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None
