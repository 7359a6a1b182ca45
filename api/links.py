"""HATEOAS links: the request's base URL and upstream's link relations.

See docs/upstream.md#base-url-of-links and docs/upstream.md#link-objects-and-rels.
"""

from __future__ import annotations

import falcon

#: Documentation fragments appended to the base URL to form link rels. Clients
#: find links by these rel endings (docs/upstream.md#link-objects-and-rels).
INFO_DOC = "/swagger#/info"
V1_DOC = "/swagger#!/info/v1"
HEALTH_DOC = "/swagger#!/info/health"
LIST_PACKS_DOC = "/swagger#!/pack/listPacks"
PACKS_DOC = "/swagger#/pack"
LIST_FLOWS_DOC = "/swagger#!/flow/listFlows"
FLOWS_DOC = "/swagger#/flow"
LIST_DATASTORE_DOC = "/swagger#!/datastore/listDatastoreItems"
DATASTORE_DOC = "/swagger#/datastore"
AUDIT_FLOWS_DOC = "/swagger#!/flowAudit/findFlows"
AUDIT_DOC = "/swagger#/flowExecs"
SWAGGER_DOC = "/swagger"
TAKE_ACTION_DOC = "/swagger#!/action/takeAction"
EVENT_DOC = "/swagger#/event"
ACTION_RESULT_DOC = "/swagger#/actionResult"


def base_url(req: falcon.Request) -> str:
    """``scheme://host`` as the client sees it, honouring proxy headers."""
    scheme = req.get_header("X-Forwarded-Proto") or req.scheme
    host = (
        req.get_header("X-Flyte-Host")
        or req.get_header("X-Forwarded-Host")
        or req.get_header("Host")
        or req.netloc
    )
    return f"{scheme}://{host}"


class Links:
    """Builds absolute hrefs and documentation rels for one request."""

    def __init__(self, base: str) -> None:
        self.base = base

    @classmethod
    def of(cls, req: falcon.Request) -> Links:
        """Links for the base URL of ``req``."""
        return cls(base_url(req))

    def href(self, path: str) -> str:
        """An absolute URL for an API path such as ``/v1/packs``."""
        return self.base + path

    def doc(self, fragment: str) -> str:
        """A documentation rel such as ``{base}/swagger#/pack``."""
        return self.base + fragment

    def link(self, path: str, rel: str) -> dict[str, str]:
        """A link to ``path`` whose rel is a plain word (self, up, help)."""
        return {"href": self.href(path), "rel": rel}

    def doc_link(self, path: str, fragment: str) -> dict[str, str]:
        """A link to ``path`` whose rel is the documentation URL of ``fragment``."""
        return {"href": self.href(path), "rel": self.doc(fragment)}
