"""Regular expressions for ``match`` and ``extractMatch``.

Upstream uses Go's RE2 engine. When the ``google-re2`` package is installed we use it
too: same syntax, linear time, so a hostile pattern cannot pin a worker. Otherwise the
standard ``re`` module is used with ``re.ASCII`` so ``\\w``, ``\\d`` and ``\\s`` keep
Go's ASCII meaning; ``re`` backtracks, and a render deadline cannot interrupt it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

try:  # pragma: no cover - depends on the optional dependency
    import re2 as _re2  # type: ignore[import-untyped,import-not-found,unused-ignore]
except ImportError:  # pragma: no cover
    _re2 = None

#: True when patterns run on RE2 (linear time, Go syntax).
USES_RE2 = _re2 is not None


class PatternError(ValueError):
    """The regular expression does not compile."""


@lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> Any:
    """Compile and cache ``pattern``; raise :class:`PatternError` when invalid."""
    if _re2 is not None:
        options = _re2.Options()
        options.log_errors = False  # RE2 would otherwise log every bad pattern
        try:
            return _re2.compile(pattern, options)
        except _re2.error as ex:
            detail = ex.args[0] if ex.args else ex
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", errors="replace")
            raise PatternError(
                f"invalid regular expression {pattern!r}: {detail}"
            ) from ex
    try:
        return re.compile(pattern, re.ASCII)
    except re.error as ex:
        raise PatternError(f"invalid regular expression {pattern!r}: {ex}") from ex
