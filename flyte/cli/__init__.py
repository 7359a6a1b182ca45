"""The ``flyte`` command line: ``flyte dev``, and the commands that talk to a
running Flyte API (flows, events, packs, datastore, audit, webhooks).

Exit codes: 0 success, 1 the operation failed (the API refused, had nothing,
or could not be reached), 2 usage or bad local input.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from collections.abc import Sequence

from flyte import __version__
from flyte.cli import audit
from flyte.cli import datastore
from flyte.cli import dev
from flyte.cli import events
from flyte.cli import flows
from flyte.cli import packs
from flyte.cli import webhooks
from flyte.cli.output import print_error
from flyte.cli.session import Session
from flyte.contract.errors import ConfigError
from flyte.contract.errors import FlyteError
from flyte.contract.errors import ValidationError
from flyte.sdk.errors import ApiUnreachable

#: The top-level help.
DESCRIPTION = """\
Run Flyte (flyte dev), and drive a running Flyte API: flows, events, packs,
the datastore, the audit and webhooks. The API is FLYTE_API, else
http://localhost:8080.

Exit codes: 0 success, 1 the operation failed (the API refused, had nothing,
or could not be reached), 2 usage or bad local input. See docs/cli.md."""
#: What to try when nothing answers at the API's address.
UNREACHABLE_HINT = "is `flyte dev` running? set FLYTE_API or --api"


def global_options(*, suppress: bool) -> argparse.ArgumentParser:
    """``--api``, ``--json``, ``--insecure``: on the top parser and every command.

    On commands their defaults are suppressed, so that an option given before
    the command is not reset by the command's parser.
    """
    default = argparse.SUPPRESS if suppress else None
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument(
        "--api", metavar="URL", default=default, help="the API (default: FLYTE_API)"
    )
    options.add_argument(
        "--json",
        action="store_true",
        default=default or False,
        help="print the API's JSON as is",
    )
    options.add_argument(
        "--insecure",
        action="store_true",
        default=default or False,
        help="do not verify the API's TLS certificate",
    )
    return options


def build_parser() -> argparse.ArgumentParser:
    """Every subcommand and its options."""
    parser = argparse.ArgumentParser(
        prog="flyte",
        description=DESCRIPTION,
        parents=[global_options(suppress=False)],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"flyte {__version__}")
    # Not required: bare ``flyte`` prints this help instead of a usage error.
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    dev.register(commands)
    common = global_options(suppress=True)
    for group in (flows, events, packs, datastore, audit, webhooks):
        group.register(commands, common)
    return parser


def main(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None
) -> int:
    """Run the CLI; every expected failure is one ``flyte: ...`` line on stderr."""
    parser = build_parser()
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments:
        # A first try: show what there is rather than a usage error.
        parser.print_help()
        return 0
    args = parser.parse_args(arguments)
    session = Session(args, os.environ if environ is None else environ)
    try:
        return int(args.handler(args, session))
    except (ConfigError, ValidationError) as ex:
        print_error(str(ex))
        return 2
    except ApiUnreachable as ex:
        print_error(f"{ex} ({UNREACHABLE_HINT})")
        return 1
    except FlyteError as ex:
        print_error(str(ex))
        return 1
    finally:
        session.close()


if __name__ == "__main__":
    sys.exit(main())
