"""The console's one Jinja2 environment and the ``render`` helper every page uses."""

from __future__ import annotations

import functools
import json
import urllib.parse
from datetime import UTC
from datetime import datetime
from typing import Any

import falcon
import jinja2

#: Where every console page lives; links are built from it.
CONSOLE_PREFIX = "/console"
HTML_CONTENT_TYPE = "text/html; charset=utf-8"


@functools.cache
def environment() -> jinja2.Environment:
    """The console's template environment: autoescape always on, strict undefined.

    Everything shown comes from packs and is hostile, so autoescape is forced on
    for every template whatever its extension, and no template uses ``|safe``.
    """
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("api.console", "html"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty_json"] = pretty_json
    env.filters["json_line"] = json_line
    env.filters["when"] = format_time
    env.filters["badge"] = badge_class
    env.filters["size"] = format_size
    env.filters["q"] = quote_segment
    return env


def render(
    req: falcon.Request,
    resp: falcon.Response,
    template_name: str,
    *,
    status: str = falcon.HTTP_200,
    **context: Any,
) -> None:
    """Render ``template_name`` into ``resp`` as HTML, with the request's
    CSRF token and sign-in state available to every template."""
    template = environment().get_template(template_name)
    resp.status = status
    resp.content_type = HTML_CONTENT_TYPE
    resp.text = template.render(
        csrf_token=req.context.get("csrf_token", ""),
        signed_in=req.context.get("signed_in", False),
        current_path=req.path,
        **context,
    )


def quote_segment(value: object) -> str:
    """A value quoted to stand as one URL path segment (``/`` included)."""
    return urllib.parse.quote(str(value), safe="")


def pretty_json(value: Any) -> str:
    """JSON indented for reading; the template escapes it like any text."""
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def json_line(value: Any) -> str:
    """JSON on one line, for a list cell; the template escapes it."""
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def format_time(value: datetime | int | float | None) -> str:
    """A UTC time to the second (epoch milliseconds or datetime); "" for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value / 1000, UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def badge_class(status: object) -> str:
    """The CSS classes of a status badge: ``badge badge-<status>``."""
    word = "".join(c if c.isalnum() else "-" for c in str(status).lower())
    return f"badge badge-{word}"


def format_size(count: int) -> str:
    """A byte count for humans: 512 bytes, 1.2 KiB, 3.4 MiB."""
    if count < 1024:
        return f"{count} bytes"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"
