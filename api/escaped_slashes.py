"""A ``/`` inside a name in a URL (``%2F``) stays inside that name.

Pack ids are built from the pack's name and labels, and a label such as
``repo: org/app`` puts a ``/`` in the id: its links read
``/v1/packs/Build.repo.org%2Fapp``. WSGI servers decode the path before the app
sees it, so that link would reach Falcon as ``/v1/packs/Build.repo.org/app`` and
route nowhere (waitress), or with the ``%2F`` kept but a ``%25`` decoded, so that
a literal ``%2F`` in a name cannot be told from a slash (cheroot). This
middleware routes such a request on the raw path the server also passes
(``REQUEST_URI``; gunicorn's ``RAW_URI``): decoded but for ``%2F`` and ``%25``,
which stay escaped until the route's fields are decoded.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

import falcon

#: The WSGI keys that carry the request target as the client sent it.
RAW_URI_KEYS = ("RAW_URI", "REQUEST_URI")
_ESCAPED_SLASH = re.compile("%2f", re.IGNORECASE)
#: Kept escaped while routing: the slash, and the percent sign so that decoding
#: a field afterwards cannot turn a literal "%2F" in a name into a slash.
_KEPT_ESCAPES = re.compile("(%2f|%25)", re.IGNORECASE)


def routable_path(raw_uri: str) -> str | None:
    """The raw target's path decoded but for ``%2F`` and ``%25``; None if no ``%2F``."""
    path = raw_path(raw_uri)
    if not _ESCAPED_SLASH.search(path):
        return None
    pieces = _KEPT_ESCAPES.split(path)
    # split() keeps each kept escape at an odd index, between decoded runs.
    return "".join(
        piece.upper() if i % 2 else unquote(piece) for i, piece in enumerate(pieces)
    )


def raw_path(raw_uri: str) -> str:
    """The path of a request target, still escaped (origin or absolute form)."""
    path = raw_uri if raw_uri.startswith("/") else urlsplit(raw_uri).path
    return path.split("?", 1)[0]


def server_decodings(path: str) -> tuple[str, str]:
    """How WSGI servers decode a raw path: all of it, or all but ``%2F``."""
    kept_slashes = "%2F".join(unquote(piece) for piece in _ESCAPED_SLASH.split(path))
    return unquote(path), kept_slashes


class EscapedSlashMiddleware:
    """Routes on the raw path when it has a ``%2F``; decodes the route's fields."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Route on the raw path, when it says what the server decoded."""
        raw = next((req.env[key] for key in RAW_URI_KEYS if key in req.env), None)
        if not isinstance(raw, str):
            return
        path = routable_path(raw)
        # Only ever how the path splits, never what it says: a server that
        # mounted the app below a prefix, or normalised the path, is left alone.
        if path is not None and req.path in server_decodings(raw_path(raw)):
            req.path = path
            req.context.escaped_slashes = True

    def process_resource(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        resource: object,
        params: dict[str, Any],
    ) -> None:
        """Decode the escapes left in the route's fields (``%2F`` and ``%25``)."""
        if has_escaped_slashes(req):
            for name, value in params.items():
                if isinstance(value, str):
                    params[name] = unquote(value)


def has_escaped_slashes(req: falcon.Request) -> bool:
    """Whether ``req.path`` keeps a ``/`` inside a segment (as ``%2F``)."""
    return bool(req.context.get("escaped_slashes"))
