"""Request bodies and response formats: JSON by default, YAML on request.

Upstream's rules, and where we relax them: docs/upstream.md#content-negotiation.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import falcon
import yaml
from falcon.media import BaseHandler

from flyte.config import DEFAULT_MAX_BODY_BYTES
from flyte.config import DEFAULT_MAX_JSON_DEPTH
from flyte.config import Settings
from flyte.errors import MalformedBody
from flyte.errors import PayloadTooLarge
from flyte.errors import Problem

YAML_TYPE = "application/x-yaml"
YAML_CONTENT_TYPE = "application/x-yaml; charset=utf-8"
#: MongoDB stores integers in at most 64 bits.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
#: JSON's \uXXXX escapes can encode half a surrogate pair, which is not
#: Unicode: UTF-8 (and so BSON) cannot encode it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class BodyLimits:
    """Limits on a JSON/YAML request body (FLYTE_MAX_BODY_BYTES, _JSON_DEPTH)."""

    max_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_depth: int = DEFAULT_MAX_JSON_DEPTH

    @classmethod
    def from_settings(cls, settings: Settings) -> BodyLimits:
        """The limits configured in ``settings``."""
        return cls(settings.max_body_bytes, settings.max_json_depth)

    @property
    def max_values(self) -> int:
        """Most values a body may hold once YAML aliases are expanded.

        A JSON text of N bytes holds fewer than N values, so more than that
        can only come from aliases repeating a node (a "billion laughs").
        """
        return self.max_bytes


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


def parse_yaml(text: str | bytes, limits: BodyLimits = BodyLimits()) -> Any:
    """Parse YAML into JSON-compatible data; raise MalformedBody with the position."""
    try:
        data = yaml.load(text, Loader=_JsonCompatibleLoader)  # noqa: S506 - safe loader
    except RecursionError as ex:  # PyYAML's composer recurses once per level
        raise MalformedBody([_too_deep("$", limits.max_depth)]) from ex
    except yaml.YAMLError as ex:
        mark = getattr(ex, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "$"
        problem = getattr(ex, "problem", None) or str(ex)
        raise MalformedBody([Problem(where, f"invalid YAML: {problem}")]) from ex
    return ensure_json_compatible(data, limits)


def parse_json(text: str | bytes, limits: BodyLimits = BodyLimits()) -> Any:
    """Parse JSON; raise MalformedBody with the line and column of the error."""
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as ex:  # the decoder recurses once per level
        raise MalformedBody([_too_deep("$", limits.max_depth)]) from ex
    except json.JSONDecodeError as ex:
        where = f"line {ex.lineno}, column {ex.colno}"
        raise MalformedBody([Problem(where, f"invalid JSON: {ex.msg}")]) from ex
    except ValueError as ex:  # not UTF-8, or NaN / Infinity
        raise MalformedBody([Problem("$", f"invalid JSON: {ex}")]) from ex
    return ensure_json_compatible(data, limits)


def ensure_json_compatible(data: Any, limits: BodyLimits = BodyLimits()) -> Any:
    """Refuse what JSON cannot carry or MongoDB cannot store, wherever it is.

    That is: keys that are not strings, NaN and infinities, integers beyond 64
    bits, YAML-only types (binary, sets, timestamps), nesting deeper than
    ``limits.max_depth`` and more values than ``limits.max_values``.
    """
    walk = _Walk(limits)
    problems = list(walk.incompatible(data, "$", 1))
    if problems:
        raise MalformedBody(problems)
    return data


def _too_deep(where: str, max_depth: int) -> Problem:
    return Problem(where, f"nesting is deeper than {max_depth} levels")


class _Walk:
    """One pass over a parsed body, counting values as it goes."""

    def __init__(self, limits: BodyLimits) -> None:
        self._limits = limits
        self._values = 0

    def incompatible(self, value: Any, where: str, depth: int) -> Iterator[Problem]:
        """Problems in ``value``; aborts at the first limit exceeded."""
        self._values += 1
        if self._values > self._limits.max_values:
            # Stop here: an alias bomb would take exponential time to walk.
            message = f"more than {self._limits.max_values} values (YAML aliases?)"
            raise MalformedBody([Problem(where, message)])
        if isinstance(value, dict | list) and depth > self._limits.max_depth:
            raise MalformedBody([_too_deep(where, self._limits.max_depth)])
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    yield Problem(f"{where}[{key!r}]", "keys must be strings")
                elif problem := _key_problem(key):
                    yield Problem(f"{where}[{key!r}]", problem)
                else:
                    yield from self.incompatible(item, f"{where}.{key}", depth + 1)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from self.incompatible(item, f"{where}[{index}]", depth + 1)
        else:
            yield from _scalar_problems(value, where)


def _key_problem(key: str) -> str | None:
    if "\x00" in key:
        return "keys must not contain NUL (MongoDB cannot store them)"
    if _LONE_SURROGATE.search(key):
        return "keys must be valid Unicode (lone surrogate)"
    return None


def _scalar_problems(value: Any, where: str) -> Iterator[Problem]:
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value):
            yield Problem(where, "strings must be valid Unicode (lone surrogate)")
    elif isinstance(value, bool) or value is None:
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
    without a JSON content type, so we do too. A body above the configured size
    is refused (413) before it is read, or as soon as the read passes the limit.
    """
    limits: BodyLimits = req.context.get("body_limits") or BodyLimits()
    if req.content_length is not None and req.content_length > limits.max_bytes:
        raise PayloadTooLarge("the request body", limits.max_bytes)
    # One byte past the limit tells "too large" without reading the rest.
    raw = req.bounded_stream.read(limits.max_bytes + 1)
    if len(raw) > limits.max_bytes:
        raise PayloadTooLarge("the request body", limits.max_bytes)
    if not raw.strip():
        raise MalformedBody([Problem("$", "request body is empty")])
    if is_yaml(req.content_type):
        return parse_yaml(raw, limits)
    return parse_json(raw, limits)


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


class BodyLimitsMiddleware:
    """Hand the configured body limits to ``read_body`` through ``req.context``."""

    def __init__(self, limits: BodyLimits) -> None:
        self._limits = limits

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Attach the limits before the resource runs."""
        req.context.body_limits = self._limits


class NegotiationMiddleware:
    """Answer in YAML when the client's Accept header asks for it."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Choose the response media type before the resource runs."""
        if wants_yaml(req):
            resp.content_type = YAML_CONTENT_TYPE
