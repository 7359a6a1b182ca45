"""``flyte dev``: the whole system in the foreground, for development."""

from __future__ import annotations

import argparse
import sys

from flyte.cli.session import Session

#: What ``flyte dev`` says when the server's dependencies are not installed.
SERVER_MISSING = (
    "flyte dev runs the server: in a Flyte checkout, install it with"
    " pip install -e '.[server]'"
)
#: Top-level packages of this repository: a missing one is a bug, not a missing extra.
OWN_PACKAGES = frozenset({"flyte", "api", "workers", "templates"})


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
    dev.add_argument(
        "--web",
        type=positive,
        default=1,
        metavar="N",
        help="API processes, on consecutive ports from FLYTE_PORT (default: 1)",
    )
    dev.add_argument(
        "--workers",
        type=positive,
        default=1,
        metavar="M",
        help="worker supervisors, each with --worker-processes processes (default: 1)",
    )
    dev.add_argument(
        "--worker-processes",
        type=int,
        default=1,
        metavar="N",
        help="worker processes that evaluate flows (default: 1)",
    )
    dev.add_argument(
        "--worker-threads",
        type=int,
        default=8,
        metavar="N",
        help="threads in each worker process (default: 8)",
    )
    dev.set_defaults(handler=run)


def run(args: argparse.Namespace, session: Session) -> int:
    """Start everything and block until stopped; 2 when the server is missing."""
    # Imported here, not at the top: the dev server needs the server's optional
    # dependencies (the ``server`` extra), and every other command works without.
    try:
        from flyte.devserver.dev import DevOptions
        from flyte.devserver.dev import run_dev
    except ModuleNotFoundError as ex:
        if not is_missing_dependency(ex):
            raise
        print(SERVER_MISSING, file=sys.stderr)
        return 2
    options = DevOptions(
        mongo_port=args.mongo_port,
        redis_port=args.redis_port,
        worker_processes=args.worker_processes,
        worker_threads=args.worker_threads,
        web=args.web,
        workers=args.workers,
    )
    return run_dev(session.environ, options)


def is_missing_dependency(ex: ModuleNotFoundError) -> bool:
    """True when the module not found is a third-party one, not one of ours."""
    top_level = (ex.name or "").partition(".")[0]
    return bool(top_level) and top_level not in OWN_PACKAGES


def positive(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer of at least 1")
    return value
