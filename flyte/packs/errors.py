"""The example packs' errors: options they cannot use and inputs they cannot run.

They descend from the contract's ``FlyteError``, in the one hierarchy drawn in
``flyte/errors.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from flyte.contract.errors import FlyteError


class ExamplePackError(FlyteError):
    """An example pack was asked for something it cannot do."""


class UnknownExample(ExamplePackError):
    """No example pack has that name."""

    def __init__(self, name: str, known: Sequence[str]) -> None:
        choices = ", ".join(known)
        super().__init__(f"no example pack is called {name!r}; choose one of {choices}")
        self.name = name


class InvalidRequest(ExamplePackError):
    """The HTTP pack's input does not describe a request that can be made."""


class HostNotAllowed(InvalidRequest):
    """The request, or one of its redirects, goes to a host not in the allow-list."""


class InvalidTimers(ExamplePackError):
    """The timer configuration has problems; all of them are listed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid timer configuration: " + "; ".join(problems))
        self.problems = problems
