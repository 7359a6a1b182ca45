"""Ids that the server gives and the clients compute the same way."""

from __future__ import annotations

from collections.abc import Mapping


def pack_id(name: str, labels: Mapping[str, str]) -> str:
    """Upstream's id: the name, then ``.key.value`` for each label in key order."""
    return name + "".join(f".{key}.{labels[key]}" for key in sorted(labels))
