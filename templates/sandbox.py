"""The sandboxed Jinja2 environment: hardened hooks, curated filters and globals.

Built on ``ImmutableSandboxedEnvironment`` with autoescape off (output is JSON or shell
text, not HTML) and ``TracedUndefined`` (missing values and deep missing chains
render ``""``, as upstream, and are recorded while a caller tracks them). Unlike
the stock sandbox, forbidden access *raises* instead of rendering empty, dunder
names are refused on every object, JSON maps prefer their keys over dict methods
(``Payload.items`` is the payload's key), and calls, operators and printed values
are size-checked and charged to the render.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

from jinja2 import Undefined
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.sandbox import SandboxedFormatter
from jinja2.utils import Namespace

from templates import compat
from templates import filters
from templates import jinja_builtins
from templates import text_filters
from templates.compiler import INTERNAL_FILTERS
from templates.functions import FUNCTIONS
from templates.guards import binop
from templates.guards import charge_result
from templates.guards import check_format_spec
from templates.guards import guard_method_call
from templates.guards import safe_range
from templates.limits import charge
from templates.limits import check_deadline
from templates.limits import check_size
from templates.undefined import TracedUndefined
from templates.undefined import excusing
from templates.values import to_text


def finalize(value: Any) -> str:
    """Render a printed value by our rules and charge it to the render budget."""
    text = value if type(value) is str else to_text(value)
    charge(len(text))
    return text


def _charged(func: Callable[..., Any]) -> Callable[..., Any]:
    # functools.wraps also copies Jinja's pass_context/pass_environment marker.
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return charge_result(func(*args, **kwargs))

    return wrapper


def _unsafe(obj: Any, name: Any) -> SecurityError:
    return SecurityError(
        f"access to attribute {name!r} of {type(obj).__name__!r} object is unsafe"
    )


def _is_dunder(name: Any) -> bool:
    return isinstance(name, str) and name[:2] == "__"


#: Filters and tests whose purpose is to handle a missing value.
_HANDLES_UNDEFINED_FILTERS = ("default", "d")
_HANDLES_UNDEFINED_TESTS = ("defined", "undefined")


class Sandbox(ImmutableSandboxedEnvironment):
    """The one Jinja2 environment templates run in."""

    intercepted_binops = frozenset(("+", "-", "*", "/", "//", "%", "**"))

    def __init__(self) -> None:
        super().__init__(
            autoescape=False,
            undefined=TracedUndefined,
            finalize=finalize,
            keep_trailing_newline=True,  # pongo2 keeps it; shell inputs need it
            extensions=["jinja2.ext.loopcontrols"],
            cache_size=0,
            auto_reload=False,
        )
        all_filters = {
            **jinja_builtins.FILTERS,
            **compat.FILTERS,
            **text_filters.FILTERS,
            **filters.FILTERS,
        }
        self.filters = {name: _charged(f) for name, f in all_filters.items()}
        self.filters.update(INTERNAL_FILTERS)
        tests: dict[str, Any] = {
            **jinja_builtins.TESTS,
            **filters.TESTS,
        }
        self.tests = tests
        # A missing value given a default or tested for is not a mistake to report.
        for name in _HANDLES_UNDEFINED_FILTERS:
            self.filters[name] = excusing(self.filters[name])
        for name in _HANDLES_UNDEFINED_TESTS:
            tests[name] = excusing(tests[name])
        # No lipsum, cycler or joiner: pongo2 has none and they only add surface.
        self.globals = {
            "range": safe_range,
            "dict": dict,
            "namespace": Namespace,
            **FUNCTIONS,
        }

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.name``: map keys first (JSON data), dunders never."""
        if type(obj) is dict:
            try:
                return obj[attribute]
            except KeyError:
                pass
        if _is_dunder(attribute):
            raise _unsafe(obj, attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        """``obj[key]`` and ``obj.0``; an int key also finds a JSON map's "0" key."""
        if type(obj) is dict:
            try:
                return obj[argument]
            except (KeyError, TypeError):
                if type(argument) is int and str(argument) in obj:
                    return obj[str(argument)]
        if _is_dunder(argument):
            raise _unsafe(obj, argument)
        return super().getitem(obj, argument)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        """Raise rather than render ``""``: a probe for internals should be loud."""
        raise _unsafe(obj, attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Apply an operator with the size guards."""
        return binop(operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Call from template code: deadline, safety and size checks around the call."""
        check_deadline()
        if not __self.is_safe_callable(__obj):
            raise SecurityError(
                f"{type(__obj).__name__!r} object is not safely callable"
            )
        args = guard_method_call(__obj, args, kwargs)
        return charge_result(__context.call(__obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """Sandbox ``str.format``/``format_map`` with bounded widths and sizes."""
        if not isinstance(value, (types.MethodType, types.BuiltinMethodType)):
            return None
        owner = getattr(value, "__self__", None)
        if value.__name__ not in ("format", "format_map") or not isinstance(owner, str):
            return None
        is_map = value.__name__ == "format_map"

        def wrapper(*args: Any, **kwargs: Any) -> str:
            formatter = _GuardedFormatter(self)
            if not is_map:
                return formatter.vformat(owner, args, kwargs)
            if kwargs or len(args) != 1:
                raise TypeError("format_map() takes exactly one positional argument")
            return formatter.vformat(owner, (), args[0])

        return functools.update_wrapper(wrapper, value)


class _GuardedFormatter(SandboxedFormatter):
    """``str.format`` whose fields are rendered by our rules and size-checked."""

    def __init__(self, env: Sandbox) -> None:
        super().__init__(env)
        self.produced = 0

    def vformat(
        self, format_string: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> str:
        check_size(len(format_string), "format string")
        return super().vformat(format_string, args, kwargs)

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion is None or isinstance(value, (str, int, float)):
            return super().convert_field(value, conversion)
        return super().convert_field(to_text(value), conversion)

    def format_field(self, value: Any, format_spec: str) -> Any:
        check_format_spec(format_spec)
        if not format_spec or not isinstance(value, (str, int, float)):
            value = to_text(value)  # "{}" prints as {{ }} would: 2.0 -> "2"
        text = super().format_field(value, format_spec)
        self.produced += len(text)
        check_size(self.produced, "formatted string")
        return text
