"""pongo2's builtin text filters (upper, title, truncatechars, striptags...).

Each renders its input by our rules first, so ``None`` is ``""`` and containers are
size-checked JSON, and refuses widths larger than the output cap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote_plus

from jinja2.filters import do_title
from markupsafe import escape as markup_escape

from templates.guards import replace_size
from templates.limits import check_size
from templates.values import to_int
from templates.values import to_text

_TAG = re.compile(r"<[^>]*?>")


def upper(value: Any) -> str:
    """``s|upper``."""
    return to_text(value).upper()


def lower(value: Any) -> str:
    """``s|lower``."""
    return to_text(value).lower()


def title(value: Any) -> str:
    """``s|title``: capitalise every word."""
    return do_title(to_text(value))


def capfirst(value: Any) -> str:
    """``s|capfirst``: upper-case the first character only."""
    text = to_text(value)
    return text[:1].upper() + text[1:]


def truncatechars(value: Any, size: Any) -> str:
    """``s|truncatechars:N``: at most N characters, ending in '...' when cut."""
    text, limit = to_text(value), max(to_int(size), 0)
    if limit >= len(text):
        return text
    return text[: limit - 3] + "..." if limit >= 3 else text[:limit]


def truncatewords(value: Any, size: Any) -> str:
    """``s|truncatewords:N``: the first N words, then '...' when cut."""
    words, limit = to_text(value).split(), to_int(size)
    if limit <= 0:
        return ""
    kept = words[:limit]
    return " ".join(kept + ["..."] if limit < len(words) else kept)


def wordcount(value: Any) -> int:
    """``s|wordcount``."""
    return len(to_text(value).split())


def cut(value: Any, removed: Any) -> str:
    """``s|cut:' '``: remove every occurrence of the argument."""
    return to_text(value).replace(to_text(removed), "")


def addslashes(value: Any) -> str:
    """``s|addslashes``: backslash-escape backslashes and quotes."""
    text = to_text(value).replace("\\", "\\\\")
    return text.replace('"', '\\"').replace("'", "\\'")


def center(value: Any, width: Any) -> str:
    """``s|center:N`` (an odd padding puts the extra space on the left, as pongo2)."""
    text, size = to_text(value), to_int(width)
    check_size(size, "center result")
    spaces = size - len(text)
    if spaces <= 0:
        return text
    return " " * (spaces // 2 + spaces % 2) + text + " " * (spaces // 2)


def ljust(value: Any, width: Any) -> str:
    """``s|ljust:N``."""
    size = to_int(width)
    check_size(size, "ljust result")
    return to_text(value).ljust(size)


def rjust(value: Any, width: Any) -> str:
    """``s|rjust:N``."""
    size = to_int(width)
    check_size(size, "rjust result")
    return to_text(value).rjust(size)


def escape(value: Any) -> str:
    """``s|escape``: HTML-escape (output is never escaped automatically)."""
    return markup_escape(value if isinstance(value, str) else to_text(value))


def safe(value: Any) -> Any:
    """``s|safe``: a no-op, kept so pongo2 and Jinja templates using it compile."""
    return value


def linebreaksbr(value: Any) -> str:
    """``s|linebreaksbr``: newlines become ``<br />``."""
    text = to_text(value)
    check_size(replace_size(text, "\n", "<br />"), "linebreaksbr result")
    return text.replace("\n", "<br />")


def make_list(value: Any) -> list[str]:
    """``s|make_list``: the characters of the text."""
    return list(to_text(value))


def striptags(value: Any) -> str:
    """``s|striptags``: drop ``<...>`` tags and surrounding whitespace."""
    return _TAG.sub("", to_text(value)).strip()


def urlencode(value: Any) -> str:
    """``s|urlencode`` (Go's QueryEscape); a map becomes a query string."""
    if isinstance(value, Mapping):
        pairs = (f"{urlencode(k)}={urlencode(v)}" for k, v in value.items())
        return "&".join(pairs)
    return quote_plus(to_text(value), safe="")


FILTERS: dict[str, Callable[..., Any]] = {
    "addslashes": addslashes,
    "capfirst": capfirst,
    "center": center,
    "cut": cut,
    "e": escape,
    "escape": escape,
    "linebreaksbr": linebreaksbr,
    "ljust": ljust,
    "lower": lower,
    "make_list": make_list,
    "rjust": rjust,
    "safe": safe,
    "striptags": striptags,
    "title": title,
    "truncatechars": truncatechars,
    "truncatewords": truncatewords,
    "upper": upper,
    "urlencode": urlencode,
    "wordcount": wordcount,
}
