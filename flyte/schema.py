"""JSON-schema validation that reports every problem with its location.

A schema may say what to report in ``x-message``: one message for any failure
of that (sub)schema, or an object of messages by failing keyword (``type``,
``required``...). Formats are checked by ``FORMATS`` only. An object schema
with ``additionalProperties: false`` reports each unknown key at its own
location and suggests the closest known key.
"""

from __future__ import annotations

import difflib
import json
import re
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError as SchemaViolation

from flyte.errors import Problem

#: The formats our schemas assert. Our own check of ``date-time``: jsonschema's
#: needs rfc3339-validator, not a dependency, and passes anything without it.
FORMATS = FormatChecker(formats=())
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(text: str) -> datetime:
    """The time ``text`` names in RFC 3339 (``Z`` or an offset); else ValueError."""
    # fromisoformat alone also takes a space for the T, a missing zone or seconds.
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    # The pattern checks the shape; this checks the date and time exist.
    return datetime.fromisoformat(text.upper())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(instance: object) -> bool:
    # Formats apply to strings only; "type" judges the rest.
    if isinstance(instance, str):
        parse_rfc3339(instance)
    return True


@cache
def load_validator(name: str) -> Draft202012Validator:
    """Load and compile the schema ``flyte/schemas/<name>.json`` once."""
    text = resources.files("flyte.schemas").joinpath(f"{name}.json").read_text()
    return Draft202012Validator(json.loads(text), format_checker=FORMATS)


def find_problems(document: Any, schema_name: str) -> list[Problem]:
    """Return every schema violation of ``document``, ordered by location."""
    validator = load_validator(schema_name)
    errors = sorted(
        validator.iter_errors(document), key=lambda e: list(map(str, e.path))
    )
    problems = []
    for error in errors:
        if _refuses_unknown_keys(error):
            problems += _unknown_key_problems(error)
        else:
            problems.append(Problem(_location(error), _message(error)))
    return problems


def _refuses_unknown_keys(error: SchemaViolation) -> bool:
    return error.validator == "additionalProperties" and (
        error.validator_value is False
    )


def _unknown_key_problems(error: SchemaViolation) -> list[Problem]:
    """One problem per unknown key, at the key, naming the closest known key."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    properties: dict[str, Any] = schema.get("properties", {})
    # A deprecated key is accepted but never worth suggesting.
    suggested = [
        name
        for name, property_schema in properties.items()
        if not (isinstance(property_schema, dict) and property_schema.get("deprecated"))
    ]
    parent = location_of(error)
    return [
        Problem(f"{parent}.{key}", _unknown_key_message(key, suggested))
        for key in _keys(error.instance)
        if key not in properties
    ]


def _keys(instance: object) -> list[str]:
    return [str(key) for key in instance] if isinstance(instance, dict) else []


def _unknown_key_message(key: str, known: list[str]) -> str:
    # Case-insensitive, so "dependson" finds "dependsOn".
    by_folded = {name.lower(): name for name in known}
    close = difflib.get_close_matches(key.lower(), list(by_folded), n=1)
    if close:
        return f"unknown key; did you mean `{by_folded[close[0]]}`?"
    return f"unknown key; known keys: {', '.join(known)}"


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
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if isinstance(custom, dict):
        custom = custom.get(str(error.validator))
    if custom is not None:
        return str(custom)
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
