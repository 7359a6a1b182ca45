"""Flows: /v1/flows and /v1/flows/{name}. Every POST makes a new version.

Upstream's behaviour: docs/upstream.md#flows.
"""

from __future__ import annotations

import falcon

from api.links import Links
from api.media import read_body
from api.views import flow_list_view
from api.views import flow_path
from api.views import flow_view
from flyte.config import DEFAULT_MAX_FLOW_STEPS
from flyte.config import DEFAULT_MAX_LABELS
from flyte.errors import Problem
from flyte.errors import ValidationError
from flyte.flow import SyntaxCheck
from flyte.flow import parse_flow
from flyte.store.flows import FlowStore


class FlowsResource:
    """``/v1/flows``: list flows and add (new versions of) them."""

    def __init__(
        self,
        flows: FlowStore,
        check_syntax: SyntaxCheck,
        *,
        max_steps: int = DEFAULT_MAX_FLOW_STEPS,
        max_labels: int = DEFAULT_MAX_LABELS,
    ) -> None:
        self._flows = flows
        self._check_syntax = check_syntax
        self._max_steps = max_steps
        self._max_labels = max_labels

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Every flow's name and description, sorted by name."""
        resp.media = flow_list_view(self._flows.list_flows(), Links.of(req))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Validate and store a flow as its new latest version; 201 with its links."""
        flow = parse_flow(
            read_body(req),
            self._check_syntax,
            max_steps=self._max_steps,
            max_labels=self._max_labels,
        )
        flow = self._flows.add(flow)
        links = Links.of(req)
        resp.status = falcon.HTTP_201
        resp.location = links.href(flow_path(flow.name))
        resp.media = flow_view(flow, links)


class FlowResource:
    """``/v1/flows/{name}``: the latest version of one flow."""

    def __init__(self, flows: FlowStore) -> None:
        self._flows = flows

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Show the flow with its steps (generated step ids included)."""
        resp.media = flow_view(self._flows.get(name), Links.of(req))

    def on_delete(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Delete the flow; correlations already running finish on their version."""
        self._flows.delete(name)
        resp.status = falcon.HTTP_204


class FlowEnabledResource:
    """``/v1/flows/{name}/enabled``: pause (``false``) or resume (``true``) a flow."""

    def __init__(self, flows: FlowStore) -> None:
        self._flows = flows

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """``true`` while the flow starts correlations, ``false`` while paused."""
        resp.media = self._flows.get(name).enabled

    def on_put(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """Set the state from a JSON ``true`` or ``false``; answer the new state."""
        body = read_body(req)
        if not isinstance(body, bool):
            problem = Problem("$", "expected true or false")
            raise ValidationError("enabled state", [problem])
        resp.media = self._flows.set_enabled(name, body).enabled
