"""Rendering rules: how a template value becomes text.

None and undefined render ``""``, booleans ``True``/``False``, numbers as JSON writes
them (``3``, ``2.5``; integral floats lose their ``.0``), and dicts, lists and other
containers as compact JSON. Containers are walked with a size bound first, so a list
holding many references to one big string cannot expand into gigabytes of text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import MappingView
from datetime import date
from datetime import time
from decimal import Decimal
from types import GeneratorType
from typing import Any
from typing import cast

from jinja2 import Undefined
from jinja2.utils import Namespace

from templates.errors import LimitExceeded
from templates.limits import check_deadline
from templates.limits import current_limits

#: Deepest container nesting rendered as JSON.
MAX_JSON_DEPTH = 200
#: Floats with an absolute value in [1e-6, 1e21) are written without an exponent.
_POSITIONAL_RANGE = (1e-6, 1e21)
_EXPONENT_ZEROS = re.compile(r"e([+-])0*(\d)")
# Generators (from map/select...) are consumed; other iterators, such as the loop
# object of a running {% for %}, are not, as that would skip its iterations.
_SEQUENCES = (list, tuple, set, frozenset, range, GeneratorType, MappingView)


def to_text(value: Any) -> str:
    """Render one value the way ``{{ value }}`` prints it."""
    kind = type(value)
    if kind is str:
        text: str = value
        return text
    if value is None or isinstance(value, Undefined):
        return ""
    if kind is bool:
        return "True" if value else "False"
    if kind is int:
        return str(value)
    if kind is float:
        return format_float(value)
    return _to_text_slow(value)


def _to_text_slow(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return format_float(float(value))
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (Mapping, Namespace, *_SEQUENCES)):
        return to_json(value)
    if isinstance(value, (date, time, Decimal)):
        return str(value)
    # Other objects (functions, macros, loop contexts) could repr arbitrary data.
    return f"<{type(value).__name__}>"


def format_float(value: float) -> str:
    """Format a float as JSON/JavaScript would: ``3.0`` → ``3``, ``1e-7`` → ``1e-7``."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    magnitude = abs(value)
    if value.is_integer() and magnitude < _POSITIONAL_RANGE[1]:
        return str(int(value))
    text = repr(value)
    if _POSITIONAL_RANGE[0] <= magnitude < _POSITIONAL_RANGE[1]:
        return format(Decimal(text), "f") if "e" in text else text
    return _EXPONENT_ZEROS.sub(r"e\1\2", text)


def to_json(value: Any, indent: int | None = None) -> str:
    """Render a value as JSON (compact unless ``indent``), refusing oversized text."""
    walker = _JsonWalker(current_limits().max_output, indent or 0)
    plain = walker.convert(value, 0)
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(plain, ensure_ascii=False, indent=indent, separators=separators)


class _JsonWalker:
    """Copy a value into plain JSON types while estimating the text it will become."""

    def __init__(self, limit: int, indent: int = 0) -> None:
        self.limit = limit
        self.indent = indent
        self.size = 0
        self.items = 0

    def grow(self, amount: int) -> None:
        self.size += amount
        if self.size > self.limit:
            raise LimitExceeded(
                f"rendering the value as JSON would exceed {self.limit} characters"
            )

    def convert(self, value: Any, depth: int) -> Any:
        if depth > MAX_JSON_DEPTH:
            raise LimitExceeded(f"value is nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(value, str):
            self.grow(len(value) + 2)
            return str(value)
        if value is None or isinstance(value, (bool, Undefined)):
            self.grow(5)
            return None if isinstance(value, Undefined) else value
        if isinstance(value, int):
            self.grow(value.bit_length() // 3 + 2)
            return int(value)
        if isinstance(value, float):
            self.grow(24)
            return _json_float(value)
        return self.convert_container(value, depth)

    def convert_container(self, value: Any, depth: int) -> Any:
        if isinstance(value, Namespace):
            value = object.__getattribute__(value, "_Namespace__attrs")
        if isinstance(value, Mapping):
            self.grow(2)
            return {self.key(k): self.item(v, depth) for k, v in value.items()}
        if isinstance(value, _SEQUENCES):
            self.grow(2)
            return [self.item(v, depth) for v in cast(Iterable[Any], value)]
        text = to_text(value)
        self.grow(len(text) + 2)
        return text

    def item(self, value: Any, depth: int) -> Any:
        self.grow(1 + self.indent * (depth + 1))
        self.items += 1
        if self.items & 0x3FF == 0:
            check_deadline()
        return self.convert(value, depth + 1)

    def key(self, key: Any) -> str:
        text = to_text(key)
        self.grow(len(text) + 3)
        return text


def _json_float(value: float) -> float | int | None:
    if math.isnan(value) or math.isinf(value):
        return None
    if value.is_integer() and abs(value) < _POSITIONAL_RANGE[1]:
        return int(value)
    return value


_GO_FLOAT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_GO_SPECIAL = re.compile(r"[+-]?(?:inf|infinity|nan)\Z", re.IGNORECASE)
_GO_INT = re.compile(r"[+-]?\d{1,4000}\Z")


def parse_float(text: str) -> float | None:
    """Parse a number the way Go's strconv.ParseFloat does; None when invalid."""
    special = _GO_SPECIAL.match(text) is not None
    if not special and _GO_FLOAT.match(text) is None:
        return None
    number = float(text)
    # Go reports overflow ("1e999") as an error rather than infinity.
    return None if math.isinf(number) and not special else number


def to_int(value: Any) -> int:
    """pongo2's ``Integer()``: numbers truncate, numeric strings parse, else 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    if isinstance(value, str):
        if _GO_INT.match(value):
            return int(value)  # exact, unlike upstream's float64 detour
        number = parse_float(value)
        return int(number) if number is not None and math.isfinite(number) else 0
    return 0


def to_float(value: Any, default: float = 0.0) -> float:
    """pongo2's ``Float()``: numbers convert, numeric strings parse, else default."""
    if isinstance(value, bool):
        return default
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return default
    if isinstance(value, str):
        number = parse_float(value)
        return default if number is None else number
    return default
