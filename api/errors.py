"""The one place where errors become HTTP responses: always a JSON body."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from collections.abc import MutableMapping
from typing import Any

import falcon

from flyte.errors import AuthError
from flyte.errors import Conflict
from flyte.errors import FlyteError
from flyte.errors import IdempotencyKeyReused
from flyte.errors import NotFound
from flyte.errors import PayloadTooLarge
from flyte.errors import Unavailable
from flyte.errors import ValidationError

logger = logging.getLogger(__name__)


class JsonError(falcon.HTTPError):
    """An HTTP error whose JSON body carries extra fields (such as ``problems``)."""

    def __init__(self, status: str, description: str, **extra: Any) -> None:
        super().__init__(status, description=description)
        self.extra = extra

    def to_dict(
        self, obj_type: type[MutableMapping[str, Any]] = dict
    ) -> MutableMapping[str, Any]:
        """The JSON body: status, title, description and the extra fields."""
        body = super().to_dict(obj_type)
        body.update(self.extra)
        return body


def serialize_error(
    req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError
) -> None:
    """Write every error as JSON ``{status, title, description, ...}``."""
    body: dict[str, Any] = {"status": error.status_code}
    body.update(error.to_dict())
    if "description" not in body:
        body["description"] = f"{body.get('title', '')} for {req.method} {req.path}"
    resp.content_type = falcon.MEDIA_JSON
    resp.text = json.dumps(body)


def add_error_handlers(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    """Map the FlyteError family (and anything unexpected) to HTTP statuses."""
    app.set_error_serializer(serialize_error)
    app.add_error_handler(Exception, _internal_error)
    app.add_error_handler(FlyteError, _internal_error)
    app.add_error_handler(NotFound, _answer(falcon.HTTP_404))
    app.add_error_handler(Conflict, _answer(falcon.HTTP_409))
    app.add_error_handler(IdempotencyKeyReused, _answer(falcon.HTTP_422))
    app.add_error_handler(ValidationError, _bad_request)
    app.add_error_handler(PayloadTooLarge, _answer(falcon.HTTP_413))
    app.add_error_handler(Unavailable, _unavailable)
    app.add_error_handler(AuthError, _unauthorized)


def _answer(
    status: str,
) -> Callable[[falcon.Request, falcon.Response, Exception, Any], None]:
    """A handler answering ``status`` with the error's message as description."""

    def handler(
        req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any
    ) -> None:
        raise JsonError(status, str(ex)) from ex

    return handler


def _bad_request(
    req: falcon.Request, resp: falcon.Response, ex: ValidationError, params: Any
) -> None:
    problems = [problem.to_dict() for problem in ex.problems]
    raise JsonError(falcon.HTTP_400, str(ex), problems=problems) from ex


def _unauthorized(
    req: falcon.Request, resp: falcon.Response, ex: AuthError, params: Any
) -> None:
    # Upstream answers every auth failure with 401 (never 403); only a missing
    # or invalid token carries a WWW-Authenticate challenge.
    challenges = [ex.challenge] if ex.challenge else None
    raise falcon.HTTPUnauthorized(description=str(ex), challenges=challenges) from ex


def _unavailable(
    req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any
) -> None:
    logger.warning("%s %s: %s", req.method, req.path, ex)
    raise JsonError(falcon.HTTP_503, str(ex)) from ex


def _internal_error(
    req: falcon.Request,
    resp: falcon.Response,
    ex: Exception,
    params: dict[str, Any] | None,
) -> None:
    if isinstance(ex, falcon.HTTPError | falcon.HTTPStatus):
        raise ex
    log_ids: dict[str, str] = req.context.get("log_ids") or {}
    ids = {**(params or {}), **log_ids}
    context = " ".join(f"{k}={v}" for k, v in sorted(ids.items()))
    logger.exception("server fault on %s %s %s", req.method, req.path, context)
    raise JsonError(
        falcon.HTTP_500, "internal server error; see the server log"
    ) from ex
