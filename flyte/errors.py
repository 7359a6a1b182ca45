"""The one error hierarchy of Flyte; ``api/errors.py`` maps it to HTTP.

::

    FlyteError
      ConfigError            a setting could not be parsed (start-up stops)
      NotFound               -> PackNotFound, FlowNotFound, ActionNotFound,
                                EventNotFound, DatastoreItemNotFound,
                                ExecutionNotFound
      Conflict               -> ActionNotPending
      ValidationError        -> InvalidPack, InvalidFlow, InvalidEvent, MalformedBody,
                                InvalidDatastoreItem, InvalidAuditQuery
      PayloadTooLarge        a request body is above its configured limit
      Retryable              -> Unavailable (Mongo or Redis does not answer),
                                ResultNotReady
      AuthError              -> NoPolicy, MissingToken, InvalidToken, ClaimsNotMet
                                (all 401, as upstream; never 403)
      ClientError            -> ApiUnreachable, ApiError, LinkNotFound
                                (raised by the pack SDK and the CLI, never served)
      ExamplePackError       -> UnknownExample, InvalidRequest (-> HostNotAllowed),
                                InvalidTimers
                                (the example packs' options and inputs)
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


class NotFound(FlyteError):
    """The requested resource does not exist."""


class ActionNotFound(NotFound):
    """No action has that id, or it belongs to another pack."""

    def __init__(self, action_id: str) -> None:
        super().__init__(f"action {action_id!r} not found for this pack")
        self.action_id = action_id


class EventNotFound(NotFound):
    """No stored event has that id."""

    def __init__(self, event_id: str) -> None:
        super().__init__(f"event {event_id!r} not found")
        self.event_id = event_id


class Conflict(FlyteError):
    """The request conflicts with the resource's current state."""


class ActionNotPending(Conflict):
    """Only a PENDING (taken) action can be completed."""

    def __init__(self, action_id: str, detail: str) -> None:
        super().__init__(f"action {action_id!r} is not PENDING: {detail}")
        self.action_id = action_id


class FlowNotFound(NotFound):
    """No flow (or flow version) has that name or uuid."""

    def __init__(self, name: str) -> None:
        super().__init__(f"flow {name!r} not found")
        self.name = name


class PackNotFound(NotFound):
    """No pack is registered with that id."""

    def __init__(self, pack_id: str) -> None:
        super().__init__(f"pack {pack_id!r} not found")
        self.pack_id = pack_id


class DatastoreItemNotFound(NotFound):
    """No datastore item has that key."""

    def __init__(self, key: str) -> None:
        super().__init__(f"datastore item {key!r} not found")
        self.key = key


class ExecutionNotFound(NotFound):
    """No flow execution (correlation) has that id in the audit."""

    def __init__(self, correlation_id: str, detail: str = "") -> None:
        message = f"flow execution {correlation_id!r} not found"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.correlation_id = correlation_id


class PayloadTooLarge(FlyteError):
    """A request body (or the part of it that is kept) is above its size limit."""

    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what} is larger than {limit} bytes")
        self.limit = limit


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


class InvalidPack(ValidationError):
    """A pack registration body is malformed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("pack", problems)


class Retryable(FlyteError):
    """A passing condition: the same work will succeed if tried again later."""


class Unavailable(Retryable):
    """A backing service (MongoDB or Redis) does not answer."""


class ResultNotReady(Retryable):
    """A result event arrived before its action was marked finished."""


class InvalidFlow(ValidationError):
    """A flow document is malformed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("flow", problems)


class InvalidEvent(ValidationError):
    """An event or action-result body is malformed."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("event", problems)


class MalformedBody(ValidationError):
    """A request body is not valid JSON or YAML."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("request body", problems)


class InvalidDatastoreItem(ValidationError):
    """A datastore upload is not a multipart form with a non-empty ``value``."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("datastore item", problems)


class InvalidAuditQuery(ValidationError):
    """The paging parameters of an audit query are not usable numbers."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("audit query", problems)


class AuthError(FlyteError):
    """A request is not authorized; ``challenge`` is its WWW-Authenticate value."""

    challenge: str | None = None


class NoPolicy(AuthError):
    """No entry of the policy file covers this method and path."""


class MissingToken(AuthError):
    """The policy asks for claims but the request has no Authorization header."""

    challenge = 'Bearer realm="token"'


class InvalidToken(AuthError):
    """The bearer token is malformed, badly signed, expired or not for us."""

    challenge = 'Bearer realm="token", error="invalid_token"'


class ClaimsNotMet(AuthError):
    """The token is valid but none of the policy's claims is in it."""


class ClientError(FlyteError):
    """A call from a pack or the CLI to a Flyte API did not succeed."""


class ApiUnreachable(ClientError):
    """The API did not answer: connection refused, DNS, TLS or timeout."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach {url}: {reason}")
        self.url = url


class ApiError(ClientError):
    """The API answered with a status the caller did not expect."""

    def __init__(self, method: str, url: str, status: int, detail: str) -> None:
        message = f"{method} {url} answered {status}"
        super().__init__(f"{message}: {detail}" if detail else message)
        self.status = status
        self.detail = detail


class LinkNotFound(ClientError):
    """A HATEOAS link the client needs is missing from a response."""

    def __init__(self, rel_suffix: str, where: str) -> None:
        super().__init__(f"no link with rel ending {rel_suffix!r} in {where}")
        self.rel_suffix = rel_suffix


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
