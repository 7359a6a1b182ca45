"""``POST /v1/flows/test``: the dry run of a stored flow or a flow document.

The literal path ``/v1/flows/test`` shadows ``/v1/flows/{name}`` for a flow
named ``test``, so this resource also answers GET, HEAD and DELETE for that flow.
"""

from __future__ import annotations

import falcon

from api.media import read_body
from api.resources.flows import FlowResource
from flyte.config import DEFAULT_MAX_FLOW_STEPS
from flyte.config import DEFAULT_MAX_LABELS
from flyte.dry_run import DryRun
from flyte.dry_run import parse_test_request
from flyte.flow import Flow
from flyte.flow import SyntaxCheck
from flyte.flow import parse_flow
from flyte.store.flows import FlowStore

#: The one flow name the literal path hides from ``/v1/flows/{name}``.
SHADOWED_NAME = "test"


class FlowTestResource:
    """``/v1/flows/test``: what a flow would do with an event, storing nothing."""

    def __init__(
        self,
        flows: FlowStore,
        check_syntax: SyntaxCheck,
        dry_run: DryRun,
        *,
        max_steps: int = DEFAULT_MAX_FLOW_STEPS,
        max_labels: int = DEFAULT_MAX_LABELS,
    ) -> None:
        self._flows = flows
        self._check_syntax = check_syntax
        self._dry_run = dry_run
        self._max_steps = max_steps
        self._max_labels = max_labels
        self._shadowed = FlowResource(flows)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Evaluate every step of the flow for the event; 200 with each verdict."""
        request = parse_test_request(read_body(req))
        flow = self._flow(request.flow)
        resp.media = self._dry_run.run(flow, request).to_json()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The flow named ``test``, as ``GET /v1/flows/{name}`` shows it."""
        self._shadowed.on_get(req, resp, SHADOWED_NAME)

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Delete the flow named ``test``, as ``DELETE /v1/flows/{name}`` does."""
        self._shadowed.on_delete(req, resp, SHADOWED_NAME)

    def _flow(self, source: str | dict[str, object]) -> Flow:
        if isinstance(source, str):
            return self._flows.get(source)
        return parse_flow(
            source,
            self._check_syntax,
            max_steps=self._max_steps,
            max_labels=self._max_labels,
        )
