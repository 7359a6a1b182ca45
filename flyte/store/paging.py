"""Pages, counts and query plans shared by the console's bounded reads.

Every list pages by offset up to ``MAX_OFFSET``; counts are ``$match`` +
``$count``, which nx-27017 answers from one index without reading documents.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import Generic
from typing import TypeVar

from pymongo.collection import Collection

T = TypeVar("T")

#: The deepest offset a list pages to; narrow the filters to go further back.
MAX_OFFSET = 10_000
#: Relative costs on nx-27017 of sorting one match read through an index, and of
#: walking one document of the sort field's index (see steered()).
SORT_COST = 2
WALK_COST = 17


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its items, and the offset of the next page if any."""

    items: list[T]
    offset: int
    next_offset: int | None


def steered(
    collection: Collection[dict[str, Any]],
    equalities: Mapping[str, str],
    rest: Mapping[str, Any],
    depth: int,
) -> dict[str, Any] | None:
    """A filter written so the cheaper of two plans runs; None: nothing matches.

    ``equalities`` are on indexed fields; ``depth`` is how many matches the
    page needs, from the newest. Reading the narrowest equality's matches
    through its own index and sorting them costs about SORT_COST per match.
    Walking the sort field's index newest first and checking each document
    costs WALK_COST per document walked, about ``depth`` divided by the share
    of documents matching. The cheaper plan runs: for the walk, every
    equality is written as a one-value ``$in``, which nx-27017 does not answer
    from an index (MongoDB plans both forms alike). Each count is one index
    range.
    """
    counts = {
        field: count(collection, {field: value}) for field, value in equalities.items()
    }
    if counts and min(counts.values()) == 0:
        return None
    match: dict[str, Any] = dict(rest)
    if not counts:
        return match
    narrowest = min(counts, key=lambda field: counts[field])
    matches = counts[narrowest]
    walked = depth * count(collection, {}) / matches
    use_index = matches * SORT_COST <= walked * WALK_COST
    for field, value in equalities.items():
        indexed = use_index and field == narrowest
        match[field] = value if indexed else {"$in": [value]}
    return match


def bounded_offset(offset: int) -> int:
    """The offset, between 0 and MAX_OFFSET."""
    return max(0, min(offset, MAX_OFFSET))


def page_of(items: list[T], offset: int, limit: int) -> Page[T]:
    """A page from ``limit + 1`` items read: the extra one says there is more."""
    more = len(items) > limit and offset + limit <= MAX_OFFSET
    return Page(items[:limit], offset, offset + limit if more else None)


def count(collection: Collection[dict[str, Any]], match: Mapping[str, Any]) -> int:
    """How many documents match (``$count``: nx-27017 counts from the index)."""
    result = list(collection.aggregate([{"$match": dict(match)}, {"$count": "n"}]))
    return int(result[0]["n"]) if result else 0
