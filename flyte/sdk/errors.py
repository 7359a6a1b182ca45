"""The errors of the clients' calls to a Flyte API: the pack SDK's and the CLI's.

They descend from the contract's ``FlyteError``, in the one hierarchy drawn in
``flyte/errors.py``, and are never served by the API.
"""

from __future__ import annotations

from flyte.contract.errors import FlyteError


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


class ResourceNotFound(ClientError):
    """The API has no such resource: it answered 404 for the one the caller named."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r} not found")
        self.kind = kind
        self.name = name
