"""Flow executions in upstream's audit JSON, plus trigger and evaluations.

Upstream's shapes are described in docs/upstream.md#audit.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import quote

from api import links as docs
from api.links import Links
from api.views import event_path
from flyte.action import Action
from flyte.audit import Evaluation
from flyte.audit import Execution
from flyte.clock import format_time
from flyte.event import Event

#: Go's zero time, which upstream shows for the result of an unfinished action.
ZERO_TIME = format_time(datetime(1, 1, 1, tzinfo=UTC))


def execution_path(correlation_id: str) -> str:
    """The API path of one flow execution."""
    return f"/v1/audit/flows/{quote(correlation_id, safe='')}"


def execution_list_view(executions: list[Execution], links: Links) -> dict[str, Any]:
    """``GET /v1/audit/flows``: ``flows`` (``[]`` when none) before ``links``."""
    return {
        "flows": [execution_view(execution, links) for execution in executions],
        "links": [
            links.link("/v1/audit/flows", "self"),
            links.link("/v1", "up"),
            {"href": links.doc(docs.AUDIT_DOC), "rel": "help"},
        ],
    }


def execution_view(execution: Execution, links: Links) -> dict[str, Any]:
    """One ``<flowExec>``: the flow version, its actions by step, and the extras.

    ``trigger`` (left out when unknown) and ``evaluations`` are not upstream's;
    clients that do not know them ignore them.
    """
    flow = execution.flow
    body: dict[str, Any] = {
        "name": flow.name,
        "uuid": flow.uuid,
        "correlationId": execution.correlation_id,
        "steps": [step.to_dict() for step in flow.steps],
        "actions": {a.step_id: audit_action_view(a) for a in execution.actions},
    }
    if execution.trigger is not None:
        body["trigger"] = _trigger_view(execution.trigger, links)
    body["evaluations"] = [_evaluation_view(e) for e in execution.evaluations]
    body["links"] = [links.link(execution_path(execution.correlation_id), "self")]
    return body


def audit_action_view(action: Action) -> dict[str, Any]:
    """One ``<auditAction>``, empty optional keys left out as upstream (Go)."""
    body: dict[str, Any] = {
        "id": action.id,
        "name": action.name,
        "packName": action.pack_name,
    }
    if action.pack_labels:
        body["packLabels"] = dict(action.pack_labels)
    if action.input is not None:
        body["input"] = action.input
    body["state"] = action.last_change.to_json()
    body["states"] = [change.to_json() for change in action.states]
    body["correlationId"] = action.correlation_id
    body["flowName"] = action.flow_name
    body["flowUUID"] = action.flow_uuid
    body["stepId"] = action.step_id
    if action.context:
        body["context"] = dict(action.context)
    body["trigger"] = action.trigger.to_json()
    body["result"] = _zero_event() if action.result is None else action.result.to_json()
    return body


def _zero_event() -> dict[str, Any]:
    """Go's zero event: what upstream shows as the result of an unfinished action."""
    return {
        "event": "",
        "pack": {"id": "", "name": ""},
        "createdAt": ZERO_TIME,
        "receivedAt": ZERO_TIME,
    }


def _trigger_view(event: Event, links: Links) -> dict[str, Any]:
    return {
        "id": event.id,
        **event.to_json(),
        "links": [links.link(event_path(event.id), "self")],
    }


def _evaluation_view(evaluation: Evaluation) -> dict[str, Any]:
    """The step's outcome after the event that caused it; its ``id`` is ``stepId``."""
    step = evaluation.step.to_json()
    return {
        "eventId": evaluation.event_id,
        "event": evaluation.event_name,
        "stepId": step.pop("id"),
        **step,
    }
