"""pongo2 builtin filters for lists, numbers and defaults, with pongo2's semantics.

Names Jinja2 also has (``first``, ``last``, ``default``, ``length``, ``join``,
``slice``, ``float``...) accept Jinja's call forms too, so one filter serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sized
from typing import Any

from jinja2 import Environment
from jinja2 import Undefined
from jinja2 import pass_environment
from jinja2.filters import make_attrgetter
from jinja2.filters import sync_do_slice

from templates.limits import check_int
from templates.limits import check_size
from templates.limits import current_rng
from templates.values import to_float
from templates.values import to_int
from templates.values import to_text

_SLICEABLE = (list, tuple, str)


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Undefined)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def split(value: Any, separator: Any = None) -> list[str]:
    """``s|split:SEP`` (Go strings.Split; an empty SEP splits into characters)."""
    text = to_text(value)
    if separator is None:
        return text.split()
    sep = to_text(separator)
    return list(text) if sep == "" else text.split(sep)


def integer(value: Any) -> int:
    """``x|integer``: truncate numbers, parse numeric strings, anything else is 0."""
    return to_int(value)


def float_(value: Any, default: float = 0.0) -> float:
    """``x|float``: numbers convert, numeric strings parse, anything else is 0.0."""
    return to_float(value, default)


def slice_(value: Any, spec: Any, fill_with: Any = None) -> Any:
    """pongo2 ``slice:'from:to'`` for a string argument, else Jinja's ``slice(n)``."""
    if not isinstance(spec, str):
        check_size(to_int(spec), "slice() result")
        return sync_do_slice(value, spec, fill_with)
    bounds = spec.split(":")
    if len(bounds) != 2:
        raise ValueError(
            "slice: the argument must look like 'from:to' (from and to can be"
            " omitted, the ':' is required)"
        )
    if not isinstance(value, _SLICEABLE):
        return value
    start, stop = (to_int(b) if b.strip() else None for b in bounds)
    return value[start:stop]


def first(value: Any) -> Any:
    """``x|first``: the first item or character, ``""`` when empty."""
    if isinstance(value, _SLICEABLE):
        return value[0] if value else ""
    if _missing(value) or not isinstance(value, Iterable):
        return ""
    return next(iter(value), "")


def last(value: Any) -> Any:
    """``x|last``: the last item or character, ``""`` when empty."""
    if isinstance(value, _SLICEABLE):
        return value[-1] if value else ""
    if _missing(value) or not isinstance(value, Iterable):
        return ""
    items = list(value)
    return items[-1] if items else ""


def default(value: Any, fallback: Any = "", boolean: bool = False) -> Any:
    """``x|default(d)``: ``d`` when x is missing or null (or falsy, with ``boolean``).

    The pongo2 form ``x|default:d`` is translated with ``boolean`` on, as in Django.
    """
    if _missing(value) or (boolean and not value):
        return fallback
    return value


def default_if_none(value: Any, fallback: Any = "") -> Any:
    """``x|default_if_none:d``: ``d`` only when x is missing or null."""
    return fallback if _missing(value) else value


def length(value: Any) -> int:
    """``x|length``: number of items or characters; 0 for anything without a length."""
    if isinstance(value, Sized):
        return len(value)
    if isinstance(value, Iterator):
        return sum(1 for _ in value)
    return 0


def length_is(value: Any, expected: Any) -> bool:
    """``x|length_is:N``."""
    return length(value) == to_int(expected)


@pass_environment
def join(
    env: Environment, value: Any, separator: Any = "", attribute: Any = None
) -> Any:
    """``list|join:SEP`` (characters of a string are joined too)."""
    if _missing(value):
        return ""
    if not isinstance(value, Iterable):
        return value
    items: Iterable[Any] = list(value)
    if attribute is not None:
        items = map(make_attrgetter(env, attribute), items)
    texts = [to_text(item) for item in items]
    sep = to_text(separator)
    check_size(sum(map(len, texts)) + len(sep) * max(len(texts) - 1, 0), "join result")
    return sep.join(texts)


def yesno(value: Any, choices: Any = None) -> str:
    """``x|yesno:'yes,no,maybe'``: pick by truthiness; null or missing is 'maybe'."""
    options = ["yes", "no", "maybe"]
    spec = "" if choices is None else to_text(choices)
    if spec:
        custom = spec.split(",")
        if not 2 <= len(custom) <= 3:
            raise ValueError(
                f"yesno takes 2 or 3 comma-separated options, got '{spec}'"
            )
        options[: len(custom)] = custom
    if _missing(value):
        return options[2]
    return options[0] if value else options[1]


def add(value: Any, other: Any) -> Any:
    """``x|add:y``: numeric sum for two numbers, else string concatenation."""
    if _is_number(value) and _is_number(other):
        if isinstance(value, float) or isinstance(other, float):
            return float(value) + float(other)
        return check_int(value + other)
    left, right = to_text(value), to_text(other)
    check_size(len(left) + len(right), "add result")
    return left + right


def divisibleby(value: Any, divisor: Any) -> bool:
    """``n|divisibleby:d`` (False for d == 0)."""
    by = to_int(divisor)
    return by != 0 and to_int(value) % by == 0


def floatformat(value: Any, places: Any = None) -> Any:
    """``x|floatformat:N`` as Django: N decimals; no or negative N trims a zero tail."""
    number = to_float(value)
    decimals = -1 if places is None else to_int(places)
    trim = not _is_number(places)
    if decimals <= 0:
        decimals, trim = -decimals, True
    check_size(decimals, "floatformat precision")
    if trim and number.is_integer():
        return to_int(value)
    return f"{number:.{decimals}f}"


def pluralize(value: Any, suffixes: Any = None) -> str:
    """``n|pluralize:'y,ies'``: a suffix for counts other than 1 (numbers only)."""
    if not _is_number(value):
        raise TypeError("filter 'pluralize' does only work on numbers")
    endings = ["", "s"]
    spec = "" if suffixes is None else to_text(suffixes)
    if spec:
        parts = spec.split(",")
        if len(parts) > 2:
            raise ValueError(
                "you cannot pass more than 2 arguments to filter 'pluralize'"
            )
        endings = ["", parts[0]] if len(parts) == 1 else parts
    return endings[0] if to_int(value) == 1 else endings[1]


def random(value: Any) -> Any:
    """``list|random``: a random item (the value itself when empty or not a list)."""
    if isinstance(value, _SLICEABLE) and value:
        return current_rng().choice(value)
    return value


FILTERS: dict[str, Callable[..., Any]] = {
    "add": add,
    "count": length,
    "d": default,
    "default": default,
    "default_if_none": default_if_none,
    "divisibleby": divisibleby,
    "first": first,
    "float": float_,
    "floatformat": floatformat,
    "integer": integer,
    "join": join,
    "last": last,
    "length": length,
    "length_is": length_is,
    "pluralize": pluralize,
    "random": random,
    "slice": slice_,
    "split": split,
    "yesno": yesno,
}
