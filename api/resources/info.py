"""Discovery and operability endpoints: /, /v1, /health and the API documents."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Any

import falcon

from api import links as docs
from api.links import Links
from flyte.health import HealthCheck
from flyte.health import run_checks


class IndexResource:
    """``GET /``: the entry point of HATEOAS discovery."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List the root links (docs/upstream.md#info-endpoints)."""
        links = Links.of(req)
        resp.media = {
            "links": [
                links.link("/", "self"),
                {"href": links.doc(docs.INFO_DOC), "rel": "help"},
                links.doc_link("/v1", docs.V1_DOC),
            ]
        }


class V1Resource:
    """``GET /v1``: links to every v1 collection; packs find their way from here."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """List the v1 links in upstream's order (docs/upstream.md#info-endpoints)."""
        links = Links.of(req)
        resp.media = {
            "links": [
                links.link("/v1", "self"),
                links.link("/", "up"),
                {"href": links.doc(docs.V1_DOC), "rel": "help"},
                links.doc_link("/health", docs.HEALTH_DOC),
                links.doc_link("/v1/packs", docs.LIST_PACKS_DOC),
                links.doc_link("/v1/flows", docs.LIST_FLOWS_DOC),
                links.doc_link("/v1/datastore", docs.LIST_DATASTORE_DOC),
                links.doc_link("/v1/audit/flows", docs.AUDIT_FLOWS_DOC),
                links.doc_link("/v1/swagger", docs.SWAGGER_DOC),
            ]
        }


class HealthResource:
    """``GET /health``: 200 when every backing service answers, else 503."""

    def __init__(self, checks: Mapping[str, HealthCheck]) -> None:
        self._checks = checks

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Run the checks and report each one."""
        results = run_checks(self._checks)
        down = [name for name, result in results.items() if result != "ok"]
        if not down:
            resp.media = {"status": "ok", "checks": results}
            return
        resp.status = falcon.HTTP_503
        resp.media = {
            "status": 503,
            "title": "503 Service Unavailable",
            "description": f"{', '.join(down)} down",
            "checks": results,
        }


class OpenApiResource:
    """``GET /v1/swagger``: the OpenAPI 3 document of this API."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._document = document

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Serve the document (JSON, or YAML on request)."""
        resp.media = self._document


class SwaggerUiResource:
    """``GET /swagger``: the Swagger UI page; its assets come from swagger-ui-bundle."""

    def __init__(self) -> None:
        self._page = resources.files("api").joinpath("static/swagger.html").read_bytes()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Serve the page that loads the UI against ``/v1/swagger``."""
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self._page
