"""Request bodies and response formats: JSON by default, YAML on request (§1.2)."""

from __future__ import annotations

import json
from typing import Any

import falcon
import yaml
from falcon.media import BaseHandler

from flyte.errors import MalformedBody
from flyte.errors import Problem

YAML_TYPE = "application/x-yaml"
YAML_CONTENT_TYPE = "application/x-yaml; charset=utf-8"


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
        return yaml.load(text, Loader=_JsonCompatibleLoader)  # noqa: S506 - safe loader
    except yaml.YAMLError as ex:
        mark = getattr(ex, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "$"
        problem = getattr(ex, "problem", None) or str(ex)
        raise MalformedBody([Problem(where, f"invalid YAML: {problem}")]) from ex


def parse_json(text: str | bytes) -> Any:
    """Parse JSON; raise MalformedBody with the line and column of the error."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as ex:
        if isinstance(ex, json.JSONDecodeError):
            where, message = f"line {ex.lineno}, column {ex.colno}", ex.msg
        else:
            where, message = "$", "body is not UTF-8"
        raise MalformedBody([Problem(where, f"invalid JSON: {message}")]) from ex


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
