"""``flyte events``: send an event as a pack would, and see what it did."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from flyte.cli.options import parse_pairs
from flyte.cli.options import parse_payload
from flyte.cli.output import print_error
from flyte.cli.output import print_json
from flyte.cli.session import Session
from flyte.cli.session import api_path
from flyte.cli.session import missing_as
from flyte.contract.ids import pack_id
from flyte.sdk.client import ApiClient
from flyte.sdk.definition import Event
from flyte.sdk.definition import event_body
from flyte.sdk.errors import ApiError
from flyte.sdk.errors import ClientError
from flyte.sdk.errors import ResourceNotFound

#: How long ``--wait`` without a number waits for the event to be processed.
DEFAULT_WAIT_SECONDS = 30.0
#: Pause between two polls of a pending event.
POLL_INTERVAL_SECONDS = 0.2


class UnknownPack(ClientError):
    """``events send`` named a pack that is not registered, without ``--register``."""

    def __init__(self, target: str, known: list[str]) -> None:
        names = ", ".join(known) if known else "none"
        super().__init__(
            f"no pack {target} is registered; known packs: {names} "
            "(or add --register to send as a new pack)"
        )
        self.target = target


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``flyte events send|show``."""
    events = commands.add_parser("events", help="send events and follow them")
    actions = events.add_subparsers(dest="action", required=True)
    send_ = actions.add_parser(
        "send",
        parents=[common],
        help="post an event as the registered pack PACK",
    )
    send_.add_argument("pack", metavar="PACK", help="the pack's name")
    send_.add_argument("event", metavar="EVENT", help="the event's name")
    send_.add_argument("--payload", metavar="JSON|@FILE", help="any JSON value")
    send_.add_argument("--labels", metavar="k=v,k2=v2", help="the pack's labels")
    send_.add_argument(
        "--register",
        action="store_true",
        help="if PACK is not registered, register a minimal one first",
    )
    send_.add_argument(
        "--wait",
        nargs="?",
        type=float,
        const=DEFAULT_WAIT_SECONDS,
        metavar="SECONDS",
        help=f"wait until it is processed (default {DEFAULT_WAIT_SECONDS:.0f} s)",
    )
    send_.set_defaults(handler=send)
    show_ = actions.add_parser("show", parents=[common], help="what an event did")
    show_.add_argument("event_id", metavar="EVENT_ID")
    show_.set_defaults(handler=show)


def send(args: argparse.Namespace, session: Session) -> int:
    """Post the event (local input checked first); print its id, or its outcome."""
    labels = parse_pairs(args.labels, "--labels")
    body = event_body(Event(args.event, parse_payload(args.payload)))
    target = pack_id(args.pack, labels)
    path = api_path("packs", target, "events")
    # With an Idempotency-Key, retried on connection errors and 409/502/503/504.
    response = session.client.post_event(path, body, expect=(202, 404))
    if response.status_code == 404:
        # A typo must not become a new pack: registering takes --register.
        if not args.register:
            raise UnknownPack(target, known_packs(session.client))
        ensure_pack(session.client, args.pack, labels, args.event)
        response = session.client.post_event(path, body)
    accepted = response.json()
    if args.wait is not None:
        return wait(session, accepted["id"], args.wait)
    if session.json:
        print_json(accepted)
    else:
        print(f"sent {args.event} as {target}: event {accepted['id']}")
        print(response.headers.get("Location", ""))
    return 0


def known_packs(client: ApiClient) -> list[str]:
    """The ids of the registered packs, sorted; empty if they cannot be listed."""
    try:
        body = client.get_json("/v1/packs")
    except ApiError:
        return []
    return sorted(str(pack.get("id")) for pack in body.get("packs", []))


def ensure_pack(
    client: ApiClient, name: str, labels: dict[str, str], event: str
) -> None:
    """Register a minimal pack unless one is registered; never replace it."""
    path = api_path("packs", pack_id(name, labels))
    if client.request("GET", path, expect=(200, 404)).status_code == 200:
        return
    pack: dict[str, Any] = {"name": name, "labels": labels, "events": [{"name": event}]}
    client.request("POST", "/v1/packs", expect=(201,), json=pack)


def wait(
    session: Session,
    event_id: str,
    seconds: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Poll the event until it is processed; 1 if still pending after ``seconds``."""
    deadline = time.monotonic() + seconds
    record = fetch(session, event_id)
    while record.get("status") == "pending" and time.monotonic() < deadline:
        sleep(POLL_INTERVAL_SECONDS)
        record = fetch(session, event_id)
    _output(session, record)
    if record.get("status") == "pending":
        print_error(f"event {event_id!r} is still pending after {seconds:g} s")
        return 1
    return 0


def show(args: argparse.Namespace, session: Session) -> int:
    """The event, its status, and per flow the steps it fired or not, and why."""
    _output(session, fetch(session, args.event_id))
    return 0


def _output(session: Session, record: dict[str, Any]) -> None:
    if session.json:
        print_json(record)
    else:
        print_event(record)


def fetch(session: Session, event_id: str) -> dict[str, Any]:
    """``GET /v1/events/{id}``; a 404 is ResourceNotFound."""
    with missing_as(ResourceNotFound("event", event_id)):
        record: dict[str, Any] = session.client.get_json(api_path("events", event_id))
    return record


def print_event(record: dict[str, Any]) -> None:
    """The event page for people: a header, then one block per flow."""
    pack = record.get("pack") or {}
    print(f"event    {record.get('event')} ({record.get('id')})")
    print(f"pack     {pack.get('id')}")
    print(f"status   {record.get('status')}")
    print(f"created  {record.get('createdAt')}")
    if record.get("reason"):
        print(f"reason   {record['reason']}")
    if record.get("actionId"):
        print(f"result of action {record['actionId']}")
    for flow in record.get("flows") or []:
        _print_flow(flow)
    if record.get("status") == "processed" and not record.get("flows"):
        print("no flow listens to this event")


def _print_flow(flow: dict[str, Any]) -> None:
    print()
    steps = flow.get("steps") or []
    print(f"flow {flow.get('flow')}: {_flow_verdict(flow, steps)}")
    if flow.get("reason"):
        print(f"  {flow['reason']}")
    for step in steps:
        print(f"  {step.get('id')}: {_step_verdict(step)}")


def _flow_verdict(flow: dict[str, Any], steps: list[dict[str, Any]]) -> str:
    """What the flow did: an execution only counts as started when a step fired."""
    correlation = f"correlation {flow.get('correlationId')}"
    if any(step.get("status") == "fired" for step in steps):
        return f"{flow.get('kind')}, {correlation}"
    # The API says "started" for a new correlation even when nothing ran in it.
    return f"nothing fired, {correlation}"


def _step_verdict(step: dict[str, Any]) -> str:
    """``fired (action ID)``, ``skipped (why)`` or ``failed (the error)``.

    Then one ``warning:`` line per undefined value the step's templates touched.
    """
    return _status_verdict(step) + "".join(
        f"\n    warning: {warning}" for warning in step.get("warnings") or ()
    )


def _status_verdict(step: dict[str, Any]) -> str:
    status = step.get("status")
    reason = step.get("reason")
    if status == "fired":
        return f"fired (action {step.get('actionId')})"
    if status == "error":
        return f"failed ({reason})" if reason else "failed"
    return f"{status} ({reason})" if reason else str(status)
