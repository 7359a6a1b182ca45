"""Undefined values that remember how a template reached them.

A missing name still renders ``""`` (upstream's behaviour), but while a caller is
tracking (:func:`tracking_undefined`), each undefined value a render creates records
the dotted path it was reached by, such as ``Event.Payload.user.name.first``. A
value handed to ``default``/``d`` or tested with ``is defined``/``is undefined``
was handled on purpose and is forgotten again. Defined values cost nothing: only
the creation of an undefined value does any work.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from jinja2 import ChainableUndefined
from jinja2.utils import missing

#: Containers visited at most when naming the parent of a missing key.
_MAX_SEARCH = 2000
#: Nesting searched at most when naming the parent of a missing key.
_MAX_DEPTH = 8


class UndefinedNames:
    """The undefined paths one tracked stretch of rendering touched, in order."""

    __slots__ = ("_paths", "roots")

    def __init__(self) -> None:
        self._paths: dict[str, None] = {}
        #: Variables of the render running now, used to name a missing key's parent.
        self.roots: Mapping[str, Any] = {}

    def add(self, path: str) -> None:
        """Record ``path`` as touched."""
        self._paths[path] = None

    def discard(self, path: str) -> None:
        """Forget ``path`` (it was handled, or reached deeper)."""
        self._paths.pop(path, None)

    def names(self) -> tuple[str, ...]:
        """The touched paths, first touched first."""
        return tuple(self._paths)

    def __bool__(self) -> bool:
        return bool(self._paths)


_TRACKER: ContextVar[UndefinedNames | None] = ContextVar(
    "template_undefined", default=None
)

current_tracker = _TRACKER.get


@contextmanager
def tracking_undefined() -> Iterator[UndefinedNames]:
    """Collect the undefined names every render inside the block touches."""
    names = UndefinedNames()
    token = _TRACKER.set(names)
    try:
        yield names
    finally:
        _TRACKER.reset(token)


class TracedUndefined(ChainableUndefined):
    """``ChainableUndefined`` that records its dotted path in the active tracker."""

    __slots__ = ("_path",)

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: Any = None,
        *,
        path: str | None = None,
    ) -> None:
        if exc is None:
            super().__init__(hint, obj, name)
        else:
            super().__init__(hint, obj, name, exc)
        tracker = _TRACKER.get()
        if tracker is None:
            self._path = ""
            return
        if path is None:
            path = _path_of(tracker.roots, obj, name)
        self._path = path
        tracker.add(path)

    def _child(self, name: Any) -> TracedUndefined:
        tracker = _TRACKER.get()
        if tracker is None:
            return self
        tracker.discard(self._path)
        return TracedUndefined(name=str(name), path=f"{self._path}.{name}")

    def __getattr__(self, name: str) -> Any:
        if name[:2] == "__":
            raise AttributeError(name)
        return self._child(name)

    def __getitem__(self, key: Any) -> Any:
        return self._child(key)


def excuse(value: Any) -> None:
    """Forget ``value``'s path: the template handled the missing value on purpose."""
    if isinstance(value, TracedUndefined) and value._path:
        tracker = _TRACKER.get()
        if tracker is not None:
            tracker.discard(value._path)


def excusing(func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter or test whose first argument may be missing on purpose."""

    def wrapper(value: Any, *args: Any, **kwargs: Any) -> Any:
        excuse(value)
        return func(value, *args, **kwargs)

    wrapper.__name__ = getattr(func, "__name__", "filter")
    wrapper.__doc__ = func.__doc__
    return wrapper


def _path_of(roots: Mapping[str, Any], obj: Any, name: str | None) -> str:
    """``parent.name``, the parent found by identity among the render's variables."""
    leaf = name if name is not None else "?"
    if obj is missing:
        return leaf
    parent = _find(roots, obj)
    return f"{parent}.{leaf}" if parent else leaf


def _find(roots: Mapping[str, Any], target: Any) -> str:
    """The dotted path of ``target`` inside ``roots``, or ``""`` (bounded search)."""
    queue: list[tuple[str, Any, int]] = [
        (str(key), value, 1)
        for key, value in roots.items()
        if isinstance(value, (dict, list))
    ]
    visited = 0
    while queue and visited < _MAX_SEARCH:
        path, value, depth = queue.pop(0)
        visited += 1
        if value is target:
            return path
        if depth >= _MAX_DEPTH:
            continue
        items = value.items() if isinstance(value, dict) else enumerate(value)
        queue.extend(
            (f"{path}.{key}", child, depth + 1)
            for key, child in items
            if isinstance(child, (dict, list))
        )
    return ""
