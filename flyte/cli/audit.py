"""``flyte audit``: flow executions, what each step did and why."""

from __future__ import annotations

import argparse
from typing import Any

from flyte.cli.options import parse_pairs
from flyte.cli.output import print_json
from flyte.cli.output import print_table
from flyte.cli.session import Session
from flyte.cli.session import api_path
from flyte.cli.session import missing_as
from flyte.sdk.errors import ResourceNotFound

#: Option (its dest) -> query parameter of ``GET /v1/audit/flows``.
FILTERS = {
    "flow": "flowName",
    "step": "stepId",
    "action_name": "actionName",
    "pack": "actionPackName",
    "start": "start",
    "limit": "limit",
}


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``flyte audit list|show``."""
    audit = commands.add_parser("audit", help="flow executions and their actions")
    actions = audit.add_subparsers(dest="action", required=True)
    list_ = actions.add_parser(
        "list", parents=[common], help="executions, most recently active first"
    )
    list_.add_argument("--flow", metavar="NAME", help="of this flow")
    list_.add_argument("--step", metavar="ID", help="that reached this step")
    list_.add_argument("--action", dest="action_name", metavar="NAME")
    list_.add_argument("--pack", metavar="NAME", help="with an action for this pack")
    list_.add_argument("--pack-labels", metavar="k=v,k2=v2")
    list_.add_argument("--start", type=int, metavar="N", help="skip N executions")
    list_.add_argument("--limit", type=int, metavar="N", help="at most N (50)")
    list_.set_defaults(handler=list_executions)
    show_ = actions.add_parser("show", parents=[common], help="one execution")
    show_.add_argument("correlation_id", metavar="CORRELATION_ID")
    show_.set_defaults(handler=show)


def query(args: argparse.Namespace) -> dict[str, str]:
    """The query parameters of the filters given; labels become ``k:v,k2:v2``."""
    params = {
        param: str(getattr(args, dest))
        for dest, param in FILTERS.items()
        if getattr(args, dest) is not None
    }
    labels = parse_pairs(args.pack_labels, "--pack-labels")
    if labels:
        params["actionPackLabels"] = ",".join(f"{k}:{v}" for k, v in labels.items())
    return params


def list_executions(args: argparse.Namespace, session: Session) -> int:
    """A table of executions: id, flow, trigger, actions by state, last activity."""
    body = session.client.get_json("/v1/audit/flows", params=query(args))
    if session.json:
        print_json(body)
        return 0
    print_table(
        [_row(execution) for execution in body.get("flows", [])],
        ["CORRELATION ID", "FLOW", "TRIGGER", "ACTIONS", "LAST ACTIVITY"],
        empty="No executions.",
    )
    return 0


def _row(execution: dict[str, Any]) -> tuple[str, ...]:
    actions = list((execution.get("actions") or {}).items())
    states = " ".join(f"{step}={a['state']['value']}" for step, a in actions)
    times = [a["state"]["time"] for _, a in actions]
    return (
        execution["correlationId"],
        execution["name"],
        _trigger_text(execution.get("trigger")),
        states,
        max(times, default=""),
    )


def _trigger_text(trigger: dict[str, Any] | None) -> str:
    if not trigger:
        return ""
    return f"{trigger.get('event')} from {(trigger.get('pack') or {}).get('id')}"


def show(args: argparse.Namespace, session: Session) -> int:
    """One execution for people: its flow, trigger, actions and evaluations."""
    with missing_as(ResourceNotFound("flow execution", args.correlation_id)):
        body = session.client.get_json(api_path("audit", "flows", args.correlation_id))
    if session.json:
        print_json(body)
    else:
        print_execution(body)
    return 0


def print_execution(execution: dict[str, Any]) -> None:
    """The header, then actions with their state history, then every evaluation."""
    trigger = execution.get("trigger") or {}
    print(f"flow         {execution['name']} (version {execution['uuid']})")
    print(f"correlation  {execution['correlationId']}")
    if trigger:
        when = trigger.get("createdAt")
        event = f"event {trigger.get('id')}"
        print(f"trigger      {_trigger_text(trigger)} at {when} ({event})")
    print("\nactions")
    for step, action in (execution.get("actions") or {}).items():
        _print_action(step, action)
    print("\nevaluations")
    for evaluation in execution.get("evaluations") or []:
        print("  " + _evaluation_text(evaluation))
        for warning in evaluation.get("warnings") or ():
            print(f"    warning: {warning}")


def _print_action(step: str, action: dict[str, Any]) -> None:
    command = f"{action['name']} on {action['packName']}"
    print(f"  {step}: {command}, {action['state']['value']} (action {action['id']})")
    for state in action.get("states") or []:
        print(f"    {state['time']}  {state['value']}")
    result = action.get("result") or {}
    if result.get("event"):
        print(f"    result: {result['event']}")


def _evaluation_text(evaluation: dict[str, Any]) -> str:
    text = (
        f"{evaluation['stepId']}: {evaluation['status']} on {evaluation['event']}"
        f" (event {evaluation['eventId']})"
    )
    if evaluation.get("reason"):
        text += f"; {evaluation['reason']}"
    if evaluation.get("actionId"):
        text += f"; action {evaluation['actionId']}"
    return text
