"""Fault-injection soak: load Flyte, crash its processes, check nothing is lost.

Each run starts two API, two worker and two scheduler processes, one nx-27017
and a Redis with an append-only file, then for ``--duration`` seconds sends
events at ``--rate`` per second (with Idempotency-Key, retried on errors) while a
runner pack takes and finishes the actions, and faults are injected at random.
Then it restarts what is down, drains, and checks the store. See
docs/reliability.md.

Run: ``.venv/bin/python -m bench.soak.soak --runs 10``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.soak.checks import Findings
from bench.soak.checks import drain
from bench.soak.cluster import Cluster
from bench.soak.faults import KINDS
from bench.soak.faults import FaultInjector
from bench.soak.traffic import Ledger
from bench.soak.traffic import run_actions
from bench.soak.traffic import send_events
from bench.soak.traffic import setup

logger = logging.getLogger("soak")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--rate", type=float, default=30.0, help="events per second")
    parser.add_argument("--senders", type=int, default=6, help="sending threads")
    parser.add_argument("--runners", type=int, default=8, help="runner pack threads")
    parser.add_argument("--crash-rate", type=float, default=0.05)
    parser.add_argument(
        "--fault-every", type=float, default=4.0, help="mean seconds between faults"
    )
    parser.add_argument(
        "--appendfsync", choices=["everysec", "always"], default="everysec"
    )
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--results", type=Path, default=None, help="JSON lines out")
    parser.add_argument("--keep", action="store_true", help="keep every run's logs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the soak ``--runs`` times; exit 1 if any run found a problem."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    failures = 0
    for run in range(1, args.runs + 1):
        seed = args.seed + run if args.seed is not None else int(time.time() * 1000)
        summary = soak_once(args, run, seed)
        print(summary_line(summary), flush=True)
        if args.results:
            with args.results.open("a") as out:
                out.write(json.dumps(summary) + "\n")
        failures += not summary["clean"]
    return 1 if failures else 0


def soak_once(args: argparse.Namespace, run: int, seed: int) -> dict[str, Any]:
    """One run: start, load under faults, drain, check, stop; a summary dict."""
    root = Path(tempfile.mkdtemp(prefix=f"flyte-soak-{run}-"))
    cluster = Cluster(root, appendfsync=args.appendfsync)
    ledger = Ledger()
    faults = FaultInjector(cluster, args.fault_every, seed)
    started = time.monotonic()
    try:
        cluster.start()
        setup(cluster.web_ports)
        stop_runners = threading.Event()
        runners = _threads(
            args.runners,
            run_actions,
            cluster.web_ports,
            ledger,
            args.crash_rate,
            stop_runners,
        )
        until = time.monotonic() + args.duration
        counter = itertools.count()
        senders = _threads(
            args.senders,
            send_events,
            cluster.web_ports,
            ledger,
            args.rate / args.senders,
            until,
            lambda: next(counter),
        )
        faults.run(until)
        for thread in senders:
            thread.join()
        cluster.ensure_running()
        findings, drained = drain(cluster.mongo_uri, ledger, args.drain_timeout)
        stop_runners.set()
        for thread in runners:
            thread.join()
    finally:
        cluster.stop()
    summary = summarize(run, seed, args, ledger, faults, findings)
    summary.update(drain_seconds=round(drained, 1), errors=count_errors(root))
    summary["seconds"] = round(time.monotonic() - started)
    if summary["clean"] and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        summary["logs"] = str(root)
    return summary


def _threads(count: int, target: Any, *args: Any) -> list[threading.Thread]:
    threads = [
        threading.Thread(target=target, args=args, daemon=True) for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    return threads


def summarize(
    run: int,
    seed: int,
    args: argparse.Namespace,
    ledger: Ledger,
    faults: FaultInjector,
    findings: Findings,
) -> dict[str, Any]:
    """The run's numbers, with a few example ids of each problem."""
    return {
        "run": run,
        "seed": seed,
        "duration": args.duration,
        "rate": args.rate,
        "appendfsync": args.appendfsync,
        "events": findings.accepted,
        "given_up": len(ledger.given_up),
        "retries": ledger.retried,
        "post_ms_p50": _percentile_ms(ledger.latencies, 0.5),
        "post_ms_p99": _percentile_ms(ledger.latencies, 0.99),
        "taken": ledger.taken,
        "crashed_consumers": ledger.crashed,
        "faults": {kind: faults.injected[kind] for kind in sorted(KINDS)},
        "lost": findings.lost,
        "duplicated": findings.duplicated,
        "stuck": findings.stuck,
        "fatal": len(findings.fatal),
        "clean": findings.clean,
        "statuses": dict(ledger.statuses),
        "step_errors": dict(findings.step_errors),
        "examples": {
            name: getattr(findings, name)[:5]
            for name in (
                "lost_events",
                "lost_triggers",
                "duplicated_events",
                "duplicated_triggers",
                "duplicated_steps",
                "missing_steps",
                "unfinished_actions",
                "pending_events",
            )
            if getattr(findings, name)
        },
    }


def _percentile_ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


def count_errors(root: Path) -> dict[str, int]:
    """ERROR and Traceback lines per process log (each should be explained)."""
    counts: dict[str, int] = {}
    for log in sorted(root.glob("*.log")):
        text = log.read_text(errors="replace")
        errors = text.count("[ERROR]") + text.count("Traceback")
        if errors:
            counts[log.stem] = errors
    return counts


def summary_line(summary: dict[str, Any]) -> str:
    """One line per run: events, faults by kind, lost, duplicated, stuck."""
    faults = " ".join(f"{kind}={n}" for kind, n in summary["faults"].items())
    return (
        f"run {summary['run']}: events={summary['events']} "
        f"given_up={summary['given_up']} retries={summary['retries']} "
        f"post_p50={summary['post_ms_p50']}ms p99={summary['post_ms_p99']}ms "
        f"crashed_consumers={summary['crashed_consumers']} {faults} "
        f"lost={summary['lost']} duplicated={summary['duplicated']} "
        f"stuck={summary['stuck']} fatal={summary['fatal']} "
        f"drain={summary['drain_seconds']}s"
    )


if __name__ == "__main__":
    sys.exit(main())
