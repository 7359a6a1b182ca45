"""JSON-schema validation that reports every problem with its location."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaViolation

from flyte.errors import Problem


@cache
def load_validator(name: str) -> Draft202012Validator:
    """Load and compile the schema ``flyte/schemas/<name>.json`` once."""
    text = resources.files("flyte.schemas").joinpath(f"{name}.json").read_text()
    return Draft202012Validator(json.loads(text))


def find_problems(document: Any, schema_name: str) -> list[Problem]:
    """Return every schema violation of ``document``, in document order."""
    validator = load_validator(schema_name)
    errors = sorted(
        validator.iter_errors(document), key=lambda e: list(map(str, e.path))
    )
    return [Problem(_location(error), _message(error)) for error in errors]


def location_of(error: SchemaViolation) -> str:
    """Render an error path as ``commands[0].events[1]``; the root is ``$``."""
    location = "$"
    for part in error.absolute_path:
        location += f"[{part}]" if isinstance(part, int) else f".{part}"
    return location


def _location(error: SchemaViolation) -> str:
    location = location_of(error)
    if error.validator == "required":
        # Point at the missing property itself, not at its parent.
        missing = error.message.split("'")[1]
        return f"{location}.{missing}"
    return location


def _message(error: SchemaViolation) -> str:
    if isinstance(error.schema, dict) and "x-message" in error.schema:
        return str(error.schema["x-message"])
    if error.validator == "required":
        return "is required"
    if error.validator == "type":
        expected = error.validator_value
        wanted = " or ".join(expected) if isinstance(expected, list) else expected
        return f"must be {wanted}, not {_json_type(error.instance)}"
    return str(error.message)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"
