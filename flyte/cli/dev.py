"""``flyte dev``: the whole system in the foreground, for development."""

from __future__ import annotations

import argparse

from flyte.cli.session import Session
from flyte.dev import DevOptions
from flyte.dev import run_dev


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``flyte dev`` and its options."""
    dev = commands.add_parser(
        "dev",
        help="run the API, workers and scheduler (and embedded MongoDB and Redis)",
        description="Run the whole system in the foreground. Configure it with the "
        "environment variables of docs/configuration.md.",
    )
    dev.add_argument("--mongo-port", type=int, default=0, help="embedded MongoDB port")
    dev.add_argument("--redis-port", type=int, default=0, help="embedded Redis port")
    dev.add_argument("--worker-processes", type=int, default=1)
    dev.add_argument("--worker-threads", type=int, default=8)
    dev.set_defaults(handler=run)


def run(args: argparse.Namespace, session: Session) -> int:
    """Start everything and block until stopped."""
    options = DevOptions(
        mongo_port=args.mongo_port,
        redis_port=args.redis_port,
        worker_processes=args.worker_processes,
        worker_threads=args.worker_threads,
    )
    return run_dev(session.environ, options)
