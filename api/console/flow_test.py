"""The console's "test this flow" form: ``POST /console/flows/{name}/test``.

It runs the same dry run as ``POST /v1/flows/test`` on the flow's latest
version and shows each step's verdict; nothing is stored, so the answer is a
page of its own rather than a redirect.
"""

from __future__ import annotations

import json
from typing import Any

import falcon

from api.console.common import html_not_found
from api.console.render import CONSOLE_PREFIX
from api.console.render import render
from api.console.security import form_fields
from flyte.dry_run import DryRun
from flyte.dry_run import parse_test_request
from flyte.errors import Problem
from flyte.errors import ValidationError
from flyte.store.flows import FlowStore


class FlowTestPageResource:
    """Dry-run the flow with the form's event; render the verdicts, or the errors."""

    def __init__(self, flows: FlowStore, dry_run: DryRun) -> None:
        self._flows = flows
        self._dry_run = dry_run

    @html_not_found
    def on_post(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        """200 with each step's verdict; 400 with the problems and the form again."""
        flow = self._flows.get(name)
        form = form_fields(req)
        try:
            request = parse_test_request(_request_body(name, form))
        except ValidationError as ex:
            render(
                req,
                resp,
                "flow_test.html",
                status=falcon.HTTP_400,
                title=f"Test flow {name}",
                flow=flow,
                form=form,
                problems=[str(p) for p in ex.problems],
                result=None,
            )
            return
        result = self._dry_run.run(flow, request).to_json()
        render(
            req,
            resp,
            "flow_test.html",
            title=f"Test flow {name}",
            flow=flow,
            form=form,
            problems=[],
            result=result,
        )


def _request_body(name: str, form: dict[str, str]) -> dict[str, Any]:
    """The dry-run request the form describes; JSON fields parsed, problems named."""
    problems: list[str] = []
    event: dict[str, Any] = {
        "packName": form.get("pack_name", "").strip(),
        "name": form.get("event_name", "").strip(),
    }
    labels = _json_field(form, "pack_labels", problems)
    if labels is not None:
        event["packLabels"] = labels
    payload = _json_field(form, "payload", problems)
    if payload is not None:
        event["payload"] = payload
    body: dict[str, Any] = {"flow": name, "event": event}
    step = form.get("answers_step", "").strip()
    if step:
        context = _json_field(form, "answers_context", problems)
        body["answers"] = {"step": step, "context": context or {}}
    if problems:
        raise ValidationError("flow test", [Problem(p, "not JSON") for p in problems])
    return body


def _json_field(form: dict[str, str], field: str, problems: list[str]) -> Any:
    """The field's JSON value; None when empty; its name in ``problems`` if not JSON."""
    text = form.get(field, "").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        problems.append(field)
        return None


def add_flow_test_route(
    app: falcon.App[falcon.Request, falcon.Response],
    flows: FlowStore,
    dry_run: DryRun,
) -> None:
    """Attach the "test this flow" form's target."""
    app.add_route(
        CONSOLE_PREFIX + "/flows/{name}/test", FlowTestPageResource(flows, dry_run)
    )
