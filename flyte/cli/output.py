"""How the CLI prints: tables for people, the API's JSON as is for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any

import yaml
from tabulate import tabulate


def print_json(document: Any) -> None:
    """One pretty-printed JSON document on stdout."""
    print(json.dumps(document, indent=2, ensure_ascii=False))


def print_yaml(document: Any) -> None:
    """A document as block YAML, keys in the API's order."""
    text = yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
    sys.stdout.write(text)


def print_table(
    rows: Iterable[Sequence[Any]], headers: Sequence[str], *, empty: str
) -> None:
    """A plain table with a header row, or the sentence ``empty`` when no rows."""
    table = list(rows)
    if table:
        print(tabulate(table, headers=list(headers), tablefmt="simple"))
    else:
        print(empty)


def write_bytes(data: bytes) -> None:
    """Raw bytes on stdout, exactly as given."""
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def print_error(message: str) -> None:
    """One ``flyte: ...`` line on stderr."""
    print(f"flyte: {message}", file=sys.stderr)


def format_labels(labels: Mapping[str, Any] | None) -> str:
    """``k=v,k2=v2`` in key order, as the labels are given on the command line."""
    return ",".join(f"{key}={value}" for key, value in sorted((labels or {}).items()))


def without_links(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its navigation links, as it was (or could be) posted."""
    return {key: value for key, value in document.items() if key != "links"}
