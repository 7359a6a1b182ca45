"""Request bodies and response formats: JSON by default, YAML on request (§1.2)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import falcon
import yaml
from falcon.media import BaseHandler

from flyte.errors import MalformedBody
from flyte.errors import Problem

YAML_TYPE = "application/x-yaml"
YAML_CONTENT_TYPE = "application/x-yaml; charset=utf-8"
#: MongoDB stores integers in at most 64 bits.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class _JsonCompatibleLoader(yaml.SafeLoader):
    """A safe YAML loader that yields only what JSON could: timestamps stay strings."""


# Upstream converts YAML to JSON first, so a date-looking scalar is a plain string.
_JsonCompatibleLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def is_yaml(media_type: str | None) -> bool:
    """True for ``application/x-yaml``, whatever parameters follow it."""
    return (media_type or "").split(";")[0].strip().lower() == YAML_TYPE


def wants_yaml(req: falcon.Request) -> bool:
    """True when the client asks for YAML responses."""
    return is_yaml(req.get_header("Accept"))


def parse_yaml(text: str | bytes) -> Any:
    """Parse YAML into JSON-compatible data; raise MalformedBody with the position."""
    try:
        data = yaml.load(text, Loader=_JsonCompatibleLoader)  # noqa: S506 - safe loader
    except yaml.YAMLError as ex:
        mark = getattr(ex, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "$"
        problem = getattr(ex, "problem", None) or str(ex)
        raise MalformedBody([Problem(where, f"invalid YAML: {problem}")]) from ex
    return ensure_json_compatible(data)


def parse_json(text: str | bytes) -> Any:
    """Parse JSON; raise MalformedBody with the line and column of the error."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as ex:
        where = f"line {ex.lineno}, column {ex.colno}"
        raise MalformedBody([Problem(where, f"invalid JSON: {ex.msg}")]) from ex
    except ValueError as ex:  # not UTF-8, or NaN / Infinity
        raise MalformedBody([Problem("$", f"invalid JSON: {ex}")]) from ex
    return ensure_json_compatible(data)


def ensure_json_compatible(data: Any) -> Any:
    """Refuse what JSON cannot carry or MongoDB cannot store, wherever it is.

    That is: keys that are not strings, NaN and infinities, integers beyond 64
    bits, and YAML-only types (binary, sets, timestamps).
    """
    problems = list(_incompatible(data, "$"))
    if problems:
        raise MalformedBody(problems)
    return data


def _incompatible(value: Any, where: str) -> Iterator[Problem]:
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield Problem(f"{where}[{key!r}]", "keys must be strings")
            else:
                yield from _incompatible(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _incompatible(item, f"{where}[{index}]")
    elif isinstance(value, bool) or value is None or isinstance(value, str):
        return
    elif isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            yield Problem(where, "integer out of the 64-bit range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield Problem(where, "numbers must be finite")
    else:
        yield Problem(where, f"{type(value).__name__} values are not JSON")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_body(req: falcon.Request) -> Any:
    """Decode the body: YAML when Content-Type says so, else JSON whatever the type.

    Upstream decodes any other Content-Type as JSON, and its Python SDK sends JSON
    without a JSON content type, so we do too.
    """
    raw = req.bounded_stream.read()
    if not raw.strip():
        raise MalformedBody([Problem("$", "request body is empty")])
    return parse_yaml(raw) if is_yaml(req.content_type) else parse_json(raw)


class YamlHandler(BaseHandler):
    """Falcon media handler that writes YAML with sorted keys, as upstream does."""

    def serialize(self, media: object, content_type: str) -> bytes:
        """Render ``media`` as YAML."""
        return yaml.safe_dump(media, sort_keys=True, allow_unicode=True).encode()

    def deserialize(
        self, stream: Any, content_type: str | None, content_length: int | None
    ) -> object:
        """Parse a YAML stream."""
        return parse_yaml(stream.read())


class NegotiationMiddleware:
    """Answer in YAML when the client's Accept header asks for it."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Choose the response media type before the resource runs."""
        if wants_yaml(req):
            resp.content_type = YAML_CONTENT_TYPE
