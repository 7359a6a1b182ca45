"""The Executions pages: the audit with its filters, and one execution as a timeline."""

from __future__ import annotations

from dataclasses import replace

import falcon

from api.console.common import MAX_PAGE_SIZE
from api.console.common import html_not_found
from api.console.common import page_offset
from api.console.common import render_list
from api.console.render import render
from api.console.timeline import timeline
from flyte.audit import Audit
from flyte.audit_query import DEFAULT_LIMIT
from flyte.audit_query import parse_audit_query
from flyte.errors import InvalidAuditQuery
from flyte.store.browse import Browse

#: The filters of GET /v1/audit/flows, which the list takes too.
FILTERS = ("flowName", "stepId", "actionName", "actionPackName", "actionPackLabels")


class ExecutionsPageResource:
    """``GET /console/executions``: executions most recently active first."""

    def __init__(self, browse: Browse) -> None:
        self._browse = browse

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """Render one page of executions, or the filter's problem (400)."""
        query = {name: req.get_param(name) or "" for name in FILTERS}
        params = {**query, "limit": req.get_param("limit") or str(DEFAULT_LIMIT)}
        try:
            audit_query = parse_audit_query(params)
        except InvalidAuditQuery as ex:
            render_list(
                req,
                resp,
                "executions.html",
                query=query,
                page=None,
                problem=str(ex),
                title="Executions",
            )
            return
        limit = min(audit_query.limit, MAX_PAGE_SIZE)
        page = self._browse.executions(
            replace(audit_query, limit=limit), page_offset(req)
        )
        render_list(
            req, resp, "executions.html", query=query, page=page, title="Executions"
        )


class ExecutionPageResource:
    """``GET /console/executions/{correlation_id}``: the execution as a timeline."""

    def __init__(self, audit: Audit) -> None:
        self._audit = audit

    @html_not_found
    def on_get(
        self, req: falcon.Request, resp: falcon.Response, correlation_id: str
    ) -> None:
        """Render the trigger, each step evaluation and each action's states."""
        execution = self._audit.get_execution(correlation_id)
        render(
            req,
            resp,
            "execution.html",
            title=f"Execution of {execution.flow.name}",
            execution=execution,
            entries=timeline(execution),
        )
