"""The root of Flyte's one error hierarchy, and the errors both sides raise.

The server's errors (``flyte/errors.py``) and the clients' (``flyte/sdk/errors.py``,
``flyte/packs/errors.py``) all descend from ``FlyteError`` here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class FlyteError(Exception):
    """Base of every error Flyte raises on purpose."""


class ConfigError(FlyteError):
    """A setting read from the environment could not be parsed."""

    def __init__(self, variable: str, message: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable
        self.reason = message


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input document, and where it is."""

    location: str
    message: str
    step: str | None = None

    def to_dict(self) -> dict[str, str]:
        """Render as JSON-ready data; ``step`` names the flow step, if any."""
        body = {"location": self.location, "message": self.message}
        if self.step is not None:
            body["step"] = self.step
        return body

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ValidationError(FlyteError):
    """Input is malformed; carries every problem found, not just the first."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"invalid {what}: " + "; ".join(map(str, self.problems)))
