"""The ``flyte`` command line."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from flyte import __version__
from flyte.dev import DevOptions
from flyte.dev import run_dev
from flyte.errors import FlyteError


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and its options."""
    parser = argparse.ArgumentParser(prog="flyte", description=__doc__)
    parser.add_argument("--version", action="version", version=f"flyte {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; errors print one clear line and exit 2."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "dev":
            options = DevOptions(
                mongo_port=args.mongo_port,
                redis_port=args.redis_port,
                worker_processes=args.worker_processes,
                worker_threads=args.worker_threads,
            )
            return run_dev(os.environ, options)
    except FlyteError as ex:
        print(f"flyte: {ex}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
