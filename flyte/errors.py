"""The one error hierarchy of Flyte; ``api/errors.py`` maps it to HTTP.

::

    FlyteError
      ConfigError            a setting could not be parsed (start-up stops)
      NotFound               -> PackNotFound
      ValidationError        -> InvalidPack, MalformedBody
      Unavailable            a backing service (Mongo, Redis) does not answer
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


class NotFound(FlyteError):
    """The requested resource does not exist."""


class PackNotFound(NotFound):
    """No pack is registered with that id."""

    def __init__(self, pack_id: str) -> None:
        super().__init__(f"pack {pack_id!r} not found")
        self.pack_id = pack_id


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input document, and where it is."""

    location: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """Render as JSON-ready data."""
        return {"location": self.location, "message": self.message}

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ValidationError(FlyteError):
    """Input is malformed; carries every problem found, not just the first."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__(f"invalid {what}: " + "; ".join(map(str, self.problems)))


class InvalidPack(ValidationError):
    """A pack registration body is malformed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("pack", problems)


class Unavailable(FlyteError):
    """A backing service (MongoDB or Redis) does not answer."""


class MalformedBody(ValidationError):
    """A request body is not valid JSON or YAML."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("request body", problems)
