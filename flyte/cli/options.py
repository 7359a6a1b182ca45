"""Local input of the commands: labels and JSON payloads, checked before sending."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flyte.contract.errors import ConfigError
from flyte.contract.errors import Problem
from flyte.contract.errors import ValidationError
from flyte.sdk.config import parse_labels


def parse_pairs(raw: str | None, option: str) -> dict[str, str]:
    """``k=v,k2=v2`` as FLYTE_LABELS is read; anything else is a ValidationError."""
    try:
        return parse_labels(raw or "", source=option)
    except ConfigError as ex:
        problem = Problem(option, ex.reason)
        raise ValidationError(option.lstrip("-"), [problem]) from ex


def parse_payload(raw: str | None, option: str = "--payload") -> Any:
    """A JSON value, given inline or as ``@FILE``; ``None`` when not given."""
    if raw is None:
        return None
    text = _read_file(raw[1:], option) if raw.startswith("@") else raw
    try:
        return json.loads(text)
    except ValueError as ex:
        where = f"{raw[1:]}: " if raw.startswith("@") else ""
        problem = Problem(option, f"{where}not valid JSON: {ex}")
        raise ValidationError(option.lstrip("-"), [problem]) from ex


def read_bytes(path: str, option: str) -> bytes:
    """The bytes of a local file; a missing or unreadable file is a ValidationError."""
    try:
        return Path(path).read_bytes()
    except OSError as ex:
        problem = Problem(option, f"cannot read {path}: {ex.strerror or ex}")
        raise ValidationError(option.lstrip("-"), [problem]) from ex


def _read_file(path: str, option: str) -> str:
    data = read_bytes(path, option)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as ex:
        problem = Problem(option, f"{path} is not UTF-8 text")
        raise ValidationError(option.lstrip("-"), [problem]) from ex
