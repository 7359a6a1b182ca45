"""The Jinja2 builtin filters and tests we expose, with size guards where they amplify.

Only a curated set is exposed. Filters that stringify their input go through
:func:`~templates.values.to_text` so containers are rendered (and size-checked) by our
rules; filters whose arguments set a size (``batch``, ``indent``, ``round``...) check
it before building anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import cast

from jinja2 import Environment
from jinja2 import filters as jf
from jinja2 import pass_environment
from jinja2.exceptions import FilterArgumentError
from jinja2.tests import TESTS as JINJA_TESTS

from templates.errors import LimitExceeded
from templates.guards import percent_format
from templates.guards import replace_size
from templates.limits import check_int
from templates.limits import check_size
from templates.values import to_json
from templates.values import to_text

#: Widest ``round()`` precision accepted, either way.
MAX_ROUND_DIGITS = 400
#: Largest ``tojson`` indent.
MAX_JSON_INDENT = 16


def capitalize(value: Any) -> str:
    """``s|capitalize``: first character upper, the rest lower."""
    return to_text(value).capitalize()


def string(value: Any) -> str:
    """``x|string``: the text ``{{ x }}`` would print."""
    return to_text(value)


def trim(value: Any, chars: Any = None) -> str:
    """``s|trim``: strip whitespace (or ``chars``) from both ends."""
    return to_text(value).strip(None if chars is None else to_text(chars))


@pass_environment
def truncate(env: Environment, value: Any, *args: Any, **kwargs: Any) -> str:
    """``s|truncate(length, killwords, end, leeway)``."""
    return jf.do_truncate(env, to_text(value), *args, **kwargs)


def replace(value: Any, old: Any, new: Any, count: Any = None) -> str:
    """``s|replace(old, new, count)``."""
    text, old_text, new_text = to_text(value), to_text(old), to_text(new)
    limit = -1 if count is None else int(count)
    check_size(replace_size(text, old_text, new_text, limit), "replace result")
    return text.replace(old_text, new_text, limit)


def format_(value: Any, *args: Any, **kwargs: Any) -> str:
    """``'%s-%s'|format(a, b)``: printf-style formatting with bounded widths."""
    if args and kwargs:
        raise FilterArgumentError("can't handle positional and keyword arguments")
    return percent_format(to_text(value), kwargs or args)


def indent(value: Any, width: Any = 4, first: bool = False, blank: bool = False) -> str:
    """``s|indent(width)``."""
    text = to_text(value)
    prefix_size = len(width) if isinstance(width, str) else int(width)
    check_size(len(text) + (text.count("\n") + 1) * max(prefix_size, 0), "indent")
    return jf.do_indent(text, width, first, blank)


def round_(value: Any, precision: int = 0, method: str = "common") -> float:
    """``x|round(precision, method)``."""
    if not -MAX_ROUND_DIGITS <= int(precision) <= MAX_ROUND_DIGITS:
        raise LimitExceeded(f"round precision must be within ±{MAX_ROUND_DIGITS}")
    return jf.do_round(value, int(precision), method)  # type: ignore[arg-type]


def batch(value: Any, linecount: Any, fill_with: Any = None) -> Any:
    """``list|batch(n)``."""
    check_size(int(linecount), "batch size")
    return jf.do_batch(value, int(linecount), fill_with)


@pass_environment
def sum_(env: Environment, value: Any, attribute: Any = None, start: Any = 0) -> Any:
    """``list|sum``: numbers only (summing lists or strings could explode)."""
    getter = None if attribute is None else jf.make_attrgetter(env, attribute)
    total = _number(start)
    for item in value:
        total = total + _number(item if getter is None else getter(item))
        if isinstance(total, int):
            check_int(total)
    return total


def _number(value: Any) -> Any:
    if not isinstance(value, (int, float)):
        raise TypeError(f"sum: can only add numbers, not {type(value).__name__}")
    return value


def tojson(value: Any, indent: Any = None) -> str:
    """``x|tojson``: JSON text (integral floats lose their ``.0``)."""
    spaces = None if indent is None else int(indent)
    if spaces is not None and not 0 <= spaces <= MAX_JSON_INDENT:
        raise ValueError(f"tojson indent must be within 0..{MAX_JSON_INDENT}")
    return to_json(value, spaces)


FILTERS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "attr": jf.do_attr,
    "batch": batch,
    "capitalize": capitalize,
    "dictsort": jf.do_dictsort,
    "filesizeformat": jf.do_filesizeformat,
    "format": format_,
    "groupby": jf.sync_do_groupby,
    "indent": indent,
    "int": jf.do_int,
    "items": jf.do_items,
    "list": jf.sync_do_list,
    "map": jf.sync_do_map,
    "max": jf.do_max,
    "min": jf.do_min,
    "reject": jf.sync_do_reject,
    "rejectattr": jf.sync_do_rejectattr,
    "replace": replace,
    "reverse": jf.do_reverse,
    "round": round_,
    "select": jf.sync_do_select,
    "selectattr": jf.sync_do_selectattr,
    "sort": jf.do_sort,
    "string": string,
    "sum": sum_,
    "tojson": tojson,
    "trim": trim,
    "truncate": truncate,
    "unique": jf.sync_do_unique,
}


def _is_lower(value: Any) -> bool:
    return to_text(value).islower()


def _is_upper(value: Any) -> bool:
    return to_text(value).isupper()


TESTS: dict[str, Callable[..., Any]] = {
    **cast(dict[str, Callable[..., Any]], JINJA_TESTS),
    "lower": _is_lower,
    "upper": _is_upper,
}
