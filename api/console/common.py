"""What every console page shares: the 404 page, list pages and paging parameters."""

from __future__ import annotations

import functools
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar
from typing import cast

import falcon

from api.console.render import render
from flyte.errors import NotFound

F = TypeVar("F", bound=Callable[..., None])

#: Rows a list shows when the URL does not say.
DEFAULT_PAGE_SIZE = 50
#: Most rows a list shows, whatever the URL says.
MAX_PAGE_SIZE = 200


def render_not_found(req: falcon.Request, resp: falcon.Response, what: str) -> None:
    """The console's 404 page, naming what was not found."""
    render(
        req,
        resp,
        "not_found.html",
        status=falcon.HTTP_404,
        title="Not found",
        what=what,
    )


def html_not_found(responder: F) -> F:
    """Answer a responder's NotFound with the console's 404 page, not JSON."""

    @functools.wraps(responder)
    def wrapper(
        self: object,
        req: falcon.Request,
        resp: falcon.Response,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        try:
            responder(self, req, resp, *args, **kwargs)
        except NotFound as ex:
            render_not_found(req, resp, str(ex))

    return cast(F, wrapper)


class NotFoundSink:
    """Every unknown path below ``/console/``: the console's 404 page."""

    def __call__(
        self, req: falcon.Request, resp: falcon.Response, **params: Any
    ) -> None:
        """Render the 404 page for the path asked."""
        render_not_found(req, resp, f"page {req.path!r}")


def render_list(
    req: falcon.Request,
    resp: falcon.Response,
    template_name: str,
    *,
    query: Mapping[str, str],
    page: object | None,
    problem: str | None = None,
    **context: Any,
) -> None:
    """Render a filtered list page, or (400) the filters as typed and their problem."""
    render(
        req,
        resp,
        template_name,
        status=falcon.HTTP_200 if problem is None else falcon.HTTP_400,
        form=query,
        # The page's links carry only the filters set; a refused form keeps them all.
        query={k: v for k, v in query.items() if v} if problem is None else query,
        problem=problem or "",
        page=page,
        **context,
    )


def page_offset(req: falcon.Request) -> int:
    """The ``offset`` parameter, at least 0 (the stores cap it)."""
    return req.get_param_as_int("offset", min_value=0, default=0) or 0


def page_size(req: falcon.Request) -> int:
    """The ``limit`` parameter, between 1 and MAX_PAGE_SIZE."""
    limit = req.get_param_as_int("limit", min_value=1, default=DEFAULT_PAGE_SIZE)
    return min(limit or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
