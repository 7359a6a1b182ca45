"""The server's errors, in the one error hierarchy that api/errors.py maps to HTTP.

The root and the errors the clients share are defined in the wire contract
(``flyte/contract/errors.py``) and re-exported here, so server code imports every
error from this module. The clients' own errors descend from the same root::

    FlyteError               (contract) base of every error raised on purpose
      ConfigError            (contract) a setting could not be parsed (start-up stops)
      ValidationError        (contract) every Problem (contract) of an input
                                -> InvalidPack, InvalidFlow, InvalidEvent,
                                MalformedBody, InvalidDatastoreItem, InvalidAuditQuery,
                                InvalidIdempotencyKey
      NotFound               -> PackNotFound, FlowNotFound, ActionNotFound,
                                EventNotFound, DatastoreItemNotFound,
                                ExecutionNotFound
      Conflict               -> ActionNotPending, IdempotencyKeyInFlight (409),
                                IdempotencyKeyReused (422)
      PayloadTooLarge        a request body is above its configured limit
      Retryable              -> Unavailable (Mongo or Redis does not answer),
                                ResultNotReady
      AuthError              -> NoPolicy, MissingToken, InvalidToken, ClaimsNotMet
                                (all 401, as upstream; never 403)
      ClientError            (flyte/sdk/errors.py) -> ApiUnreachable, ApiError,
                                LinkNotFound, ResourceNotFound
                                (raised by the pack SDK and the CLI, never served)
      ExamplePackError       (flyte/packs/errors.py) -> UnknownExample,
                                InvalidRequest (-> HostNotAllowed), InvalidTimers
                                (the example packs' options and inputs)
"""

from __future__ import annotations

from collections.abc import Sequence

from flyte.contract.errors import ConfigError as ConfigError
from flyte.contract.errors import FlyteError as FlyteError
from flyte.contract.errors import Problem as Problem
from flyte.contract.errors import ValidationError as ValidationError


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


class IdempotencyKeyInFlight(Conflict):
    """A request with this Idempotency-Key is still being handled (try again)."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"a request with Idempotency-Key {key!r} is still in progress; "
            "retry it in a moment"
        )
        self.key = key


class IdempotencyKeyReused(Conflict):
    """An Idempotency-Key was sent again with a different request body."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used with a different body; "
            "use a new key for a new event"
        )
        self.key = key


class InvalidIdempotencyKey(ValidationError):
    """An Idempotency-Key header that is empty, too long or not a string."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("Idempotency-Key", problems)


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
