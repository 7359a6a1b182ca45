"""After a soak run: read the store and count what was lost, duplicated or stuck."""

from __future__ import annotations

import time
from collections import Counter
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from pymongo import MongoClient

from bench.soak.traffic import SOURCE_PACK
from bench.soak.traffic import Ledger

FINAL_STATES = {"SUCCESS", "FATAL"}


@dataclass
class Findings:
    """Counts per invariant; every one but ``fatal`` and ``given_up`` must be 0."""

    accepted: int = 0
    lost_events: list[str] = field(default_factory=list)
    duplicated_events: list[str] = field(default_factory=list)
    lost_triggers: list[str] = field(default_factory=list)
    duplicated_triggers: list[str] = field(default_factory=list)
    duplicated_steps: list[str] = field(default_factory=list)
    missing_steps: list[str] = field(default_factory=list)
    unfinished_actions: list[str] = field(default_factory=list)
    pending_events: list[str] = field(default_factory=list)
    fatal: list[str] = field(default_factory=list)
    step_errors: Counter[str] = field(default_factory=Counter)

    @property
    def lost(self) -> int:
        """Accepted events not stored, or stored but never fired."""
        return len(self.lost_events) + len(self.lost_triggers)

    @property
    def duplicated(self) -> int:
        """Extra copies of events, correlations or step actions."""
        return (
            len(self.duplicated_events)
            + len(self.duplicated_triggers)
            + len(self.duplicated_steps)
        )

    @property
    def stuck(self) -> int:
        """Actions or events that never reached a final state."""
        return (
            len(self.unfinished_actions)
            + len(self.pending_events)
            + len(self.missing_steps)
        )

    @property
    def clean(self) -> bool:
        """Nothing lost, duplicated or stuck."""
        return self.lost == self.duplicated == self.stuck == 0


def examine(mongo_uri: str, ledger: Ledger) -> Findings:
    """Check every invariant against the stored events and actions."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongo_uri)
    try:
        db = client.get_default_database()
        events = list(db["event"].find({}, {"event": 1, "status": 1, "outcome": 1}))
        actions = list(
            db["action"].find(
                {"flowName": "soak"},
                {"stepId": 1, "correlationId": 1, "state": 1, "trigger": 1},
            )
        )
    finally:
        client.close()
    findings = Findings(accepted=len(ledger.accepted))
    _check_events(findings, ledger, events)
    _check_actions(findings, ledger, actions)
    return findings


def _check_events(
    findings: Findings, ledger: Ledger, events: list[dict[str, Any]]
) -> None:
    stored: Counter[str] = Counter()
    for doc in events:
        event = doc["event"]
        if doc["status"] == "pending":
            findings.pending_events.append(doc["_id"])
        if event["pack"]["_id"] == SOURCE_PACK and event["name"] == "Tick":
            stored[event["payload"]["key"]] += 1
        for outcome in doc.get("outcome") or []:
            for step in outcome.get("steps", []):
                if step["status"] == "error":
                    findings.step_errors[step.get("reason", "")[:80]] += 1
    for key, ids in ledger.accepted.items():
        if stored[key] == 0:
            findings.lost_events.append(key)
        # Two ids for one key: a retry was stored as a new event.
        if stored[key] > 1 or len(ids) > 1:
            findings.duplicated_events.append(key)


def _check_actions(
    findings: Findings, ledger: Ledger, actions: list[dict[str, Any]]
) -> None:
    firsts: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
    steps: Counter[tuple[str, str]] = Counter()
    for doc in actions:
        steps[(doc["correlationId"], doc["stepId"])] += 1
        state = doc["state"]["value"]
        if state not in FINAL_STATES:
            findings.unfinished_actions.append(doc["_id"])
        if state == "FATAL":
            findings.fatal.append(doc["_id"])
        if doc["stepId"] == "first":
            firsts[doc["trigger"]["payload"]["key"]].append(doc)
    _check_triggers(findings, ledger, firsts)
    findings.duplicated_steps.extend(
        f"{correlation}/{step}" for (correlation, step), n in steps.items() if n > 1
    )
    # A finished first step must have continued with the second.
    findings.missing_steps.extend(
        doc["correlationId"]
        for docs in firsts.values()
        for doc in docs
        if doc["state"]["value"] == "SUCCESS"
        and steps[(doc["correlationId"], "second")] == 0
    )


def _check_triggers(
    findings: Findings,
    ledger: Ledger,
    firsts: defaultdict[str, list[dict[str, Any]]],
) -> None:
    """Each accepted and stored event started exactly one correlation."""
    lost = set(findings.lost_events)
    for key in ledger.accepted:
        if key in lost:
            continue
        if not firsts[key]:
            findings.lost_triggers.append(key)
        elif len(firsts[key]) > 1:
            findings.duplicated_triggers.append(key)


#: The drain gives up when the backlog has not shrunk for this long.
STALLED_AFTER = 90.0


def drain(mongo_uri: str, ledger: Ledger, timeout: float) -> tuple[Findings, float]:
    """Wait until nothing is left in flight; the findings and seconds waited.

    A slow machine drains slowly, so the wait goes on while the backlog shrinks:
    it ends when nothing is left, when nothing has moved for ``STALLED_AFTER``
    seconds (what is left is stuck), or after ``timeout``.
    """
    started = last_progress = time.monotonic()
    least = None
    while True:
        findings = examine(mongo_uri, ledger)
        now = time.monotonic()
        left = findings.stuck + len(findings.lost_triggers)
        if least is None or left < least:
            least, last_progress = left, now
        if left == 0 or now - last_progress > STALLED_AFTER or now - started > timeout:
            return findings, now - started
        time.sleep(2)
