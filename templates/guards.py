"""Guards that stop templates from exhausting memory or CPU.

Each guard estimates the size of a result *before* building it (operators, ``%`` and
``str.format`` formatting, amplifying ``str`` methods, ``range``) and charges what
was built to the render's budget. The sandbox calls them from its operator, call
and loop hooks.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from types import BuiltinMethodType
from typing import Any

from jinja2.exceptions import SecurityError

from templates.errors import LimitExceeded
from templates.limits import MAX_INT_BITS
from templates.limits import MAX_RANGE
from templates.limits import RenderState
from templates.limits import charge
from templates.limits import check_int
from templates.limits import check_size
from templates.limits import current_limits
from templates.limits import deadline_exceeded
from templates.limits import get_state
from templates.limits import is_past_deadline
from templates.values import to_text

_SIZED = (str, bytes, list, tuple)
_PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0\- +]*(?P<width>\*|\d+)?"
    r"(?:\.(?P<precision>\*|\d+))?[hlL]?(?P<conversion>.|$)",
    re.S,
)
_NUMBER = re.compile(r"\d+")


def binop(op: str, left: Any, right: Any) -> Any:
    """Apply a binary operator from a template, refusing huge results."""
    return _BINOPS[op](left, right)


def _mul(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        if left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise LimitExceeded(f"integer product would exceed {MAX_INT_BITS} bits")
        return left * right
    seq, times = (left, right) if isinstance(right, int) else (right, left)
    if isinstance(seq, _SIZED) and isinstance(times, int):
        size = len(seq) * max(times, 0)
        check_size(size, "repetition")
        charge(size)
    return left * right


def _add(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        return check_int(left + right)
    if isinstance(left, _SIZED) and isinstance(right, _SIZED):
        size = len(left) + len(right)
        check_size(size, "concatenation")
        charge(size)
    return left + right


def _sub(left: Any, right: Any) -> Any:
    if isinstance(left, int) and isinstance(right, int):
        return check_int(left - right)
    return left - right


def _pow(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
        # A lower bound of the result's size, so 10 ** 10 ** 10 is never computed.
        if exponent > 0 and (base.bit_length() - 1) * exponent > MAX_INT_BITS:
            raise LimitExceeded(f"power would exceed {MAX_INT_BITS} bits")
        if exponent > 0:
            return check_int(base**exponent, "power")
    return base**exponent


def _mod(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        return percent_format(left, right)
    if isinstance(left, (bytes, bytearray)):
        raise SecurityError("bytes formatting is not allowed")
    return left % right


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": _add,
    "-": _sub,
    "*": _mul,
    "**": _pow,
    "%": _mod,
    "/": operator.truediv,
    "//": operator.floordiv,
}


def percent_format(template: str, args: Any) -> str:
    """``template % args`` with widths bounded and the result size estimated first."""
    limit = current_limits().max_output
    specs = [m for m in _PERCENT_SPEC.finditer(template) if m["conversion"] != "%"]
    positional = isinstance(args, tuple)
    values = list(args) if positional else args
    estimate = len(template)
    for index, spec in enumerate(specs):
        for number in (spec["width"], spec["precision"]):
            if number == "*" or (number and int(number) > limit):
                raise LimitExceeded(f"format width or precision {number!r} refused")
        value = _spec_value(spec, index, values, positional)
        estimate += max(int(spec["width"] or 0), len(_format_arg(value)))
        if spec["precision"] and spec["conversion"] not in "sra":
            estimate += int(spec["precision"])
    check_size(estimate, "formatted string")
    result: str = template % _format_args(specs, args)
    charge(len(result))
    return result


def _spec_value(spec: re.Match[str], index: int, values: Any, positional: bool) -> Any:
    if spec["key"] is not None and isinstance(values, Mapping):
        return values.get(spec["key"], "")
    if positional:
        return values[index] if index < len(values) else ""
    return values


def _format_arg(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, (int, float)) else to_text(value)


def _format_args(specs: list[re.Match[str]], args: Any) -> Any:
    # %s prints by our rules (2.0 -> "2", None -> ""); %d/%f keep the numbers.
    if isinstance(args, tuple):
        return tuple(
            _plain_arg(value, index < len(specs) and specs[index]["conversion"] == "s")
            for index, value in enumerate(args)
        )
    if isinstance(args, Mapping):
        as_text = {spec["key"]: spec["conversion"] == "s" for spec in specs}
        return {
            key: _plain_arg(args[key], text)
            for key, text in as_text.items()
            if key is not None and key in args
        }
    return _plain_arg(args, bool(specs) and specs[0]["conversion"] == "s")


def _plain_arg(value: Any, as_text: bool) -> Any:
    if as_text or not isinstance(value, (int, float, str)):
        return to_text(value)
    return value


def check_format_spec(spec: str) -> None:
    """Refuse ``str.format`` specs whose width or precision exceeds the output cap."""
    limit = current_limits().max_output
    if "{" in spec or any(int(n) > limit for n in _NUMBER.findall(spec)):
        raise LimitExceeded(f"format spec {spec!r} refused")


def safe_range(*args: int) -> range:
    """``range()`` that refuses more than :data:`MAX_RANGE` items."""
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = MAX_RANGE + 1
    if length > MAX_RANGE:
        raise LimitExceeded(f"range() is limited to {MAX_RANGE} items")
    return numbers


def guard_iter(iterable: Iterable[Any]) -> Iterable[Any]:
    """Wrap a ``{% for %}`` iterable so every iteration checks the deadline."""
    state = get_state()
    if state is None:
        return iterable
    return _deadline_iter(iter(iterable), state)


def _deadline_iter(items: Iterator[Any], state: RenderState) -> Iterator[Any]:
    for item in items:
        if is_past_deadline(state):
            raise deadline_exceeded(state)
        yield item


def guard_method_call(
    func: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...]:
    """Check a call of a builtin method that can amplify its receiver.

    Returns the positional arguments to use (``join`` materialises its iterable).
    """
    if not isinstance(func, BuiltinMethodType):
        return args
    owner = getattr(func, "__self__", None)
    if isinstance(owner, (str, bytes)):
        return _guard_text_method(owner, func.__name__, args, kwargs)
    if isinstance(owner, int) and func.__name__ == "to_bytes":
        length = args[0] if args else kwargs.get("length", 1)
        if isinstance(length, int):
            check_size(length, "to_bytes() result")
    return args


def _guard_text_method(
    owner: Any, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]
) -> tuple[Any, ...]:
    if name in ("center", "ljust", "rjust", "zfill") and args:
        if isinstance(args[0], int):
            check_size(args[0], f"{name}() result")
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        tabsize = tabsize if isinstance(tabsize, int) else 8
        check_size(len(owner) + owner.count("\t") * max(tabsize, 0), "expandtabs()")
    elif name == "join" and args:
        items = list(args[0])
        lengths = sum(len(item) for item in items if isinstance(item, _SIZED))
        check_size(lengths + len(owner) * max(len(items) - 1, 0), "join() result")
        return (items, *args[1:])
    elif name == "replace" and len(args) >= 2:
        check_size(replace_size(owner, *args), "replace() result")
    elif name == "translate":
        raise SecurityError("str.translate() is not allowed")
    return args


def replace_size(text: Any, old: Any, new: Any, count: Any = -1) -> int:
    """Length of ``text.replace(old, new, count)`` without building it."""
    if not isinstance(old, _SIZED) or not isinstance(new, _SIZED):
        return len(text)
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))


def charge_result(result: Any) -> Any:
    """Charge the size of a freshly built string or container to the budget."""
    if isinstance(result, (str, bytes, list, tuple, dict)):
        charge(len(result))
    return result
