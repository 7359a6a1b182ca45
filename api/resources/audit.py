"""The audit of flow executions: /v1/audit/flows and /v1/audit/flows/{id}.

Upstream's behaviour: docs/upstream.md#audit.
"""

from __future__ import annotations

import falcon

from api.audit_views import execution_list_view
from api.audit_views import execution_view
from api.links import Links
from flyte.audit import Audit
from flyte.audit_query import parse_audit_query


class AuditFlowsResource:
    """``GET /v1/audit/flows``: flow executions, most recently active first."""

    def __init__(self, audit: Audit) -> None:
        self._audit = audit

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """One page of executions, filtered by their actions; 400 on a bad page."""
        executions = self._audit.find_executions(parse_audit_query(req.params))
        resp.media = execution_list_view(executions, Links.of(req))


class AuditFlowResource:
    """``GET /v1/audit/flows/{correlation_id}``: one flow execution."""

    def __init__(self, audit: Audit) -> None:
        self._audit = audit

    def on_get(
        self, req: falcon.Request, resp: falcon.Response, correlation_id: str
    ) -> None:
        """The execution with every action, its trigger and its evaluations."""
        req.context.log_ids = {"correlation_id": correlation_id}
        execution = self._audit.get_execution(correlation_id)
        resp.media = execution_view(execution, Links.of(req))
