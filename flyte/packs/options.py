"""What every example pack's ``main()`` shares: options from argv or the environment,
the client config, logging, and running the pack until SIGINT or SIGTERM.

An option given on the command line wins over its environment variable, which
wins over the default; every variable is named in ``--help``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import NoReturn

from flyte.contract.errors import ConfigError
from flyte.sdk import ClientConfig
from flyte.sdk import Pack
from flyte.sdk.config import DEFAULT_LOCAL_API
from flyte.sdk.definition import DEFAULT_POLLING_INTERVAL
from flyte.sdk.errors import ClientError
from flyte.sdk.runner import Background

#: Exit status of bad options or configuration, as argparse's.
EXIT_USAGE = 2
#: Exit status when the pack cannot run (the API refused its definition).
EXIT_FAILURE = 1

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OptionParser(argparse.ArgumentParser):
    """argparse with env fallbacks, whose errors are one line on stderr."""

    def __init__(self, prog: str, description: str, environ: Mapping[str, str]):
        super().__init__(
            prog=prog,
            description=description,
            epilog="Client settings: FLYTE_API (default "
            f"{DEFAULT_LOCAL_API}), FLYTE_LABELS, FLYTE_API_TIMEOUT, FLYTE_JWT, "
            "FLYTE_API_TLS_VERIFY, FLYTE_PACK_HEALTH_PORT (unset or 0: no health "
            "endpoint).",
        )
        self._environ = environ
        self._fallbacks: dict[str, tuple[str, Callable[[str], Any], Any]] = {}

    def option(
        self,
        flag: str,
        *,
        env: str,
        type: Callable[[str], Any] = str,  # noqa: A002 - argparse's name
        default: Any = None,
        help: str,  # noqa: A002 - argparse's name
        repeat: bool = False,
    ) -> None:
        """Add ``flag``; unset on the command line, ``env`` then ``default`` apply."""
        shown = f"; default {default}" if default not in (None, []) else ""
        text = f"{help} (env {env}{shown})"
        action = "append" if repeat else "store"
        dest = flag.lstrip("-").replace("-", "_")
        self.add_argument(flag, type=type, action=action, default=None, help=text)
        self._fallbacks[dest] = (env, type, default)

    def parse(self, argv: Sequence[str]) -> argparse.Namespace:
        """Parse ``argv``, then fill what it left unset from the environment."""
        args = self.parse_args(argv)
        for dest, (env, convert, default) in self._fallbacks.items():
            if getattr(args, dest) is None:
                setattr(args, dest, self._from_env(env, convert, default))
        return args

    def _from_env(self, env: str, convert: Callable[[str], Any], default: Any) -> Any:
        raw = self._environ.get(env, "").strip()
        if not raw:
            return default
        try:
            if isinstance(default, list):
                items = [item.strip() for item in raw.split(",")]
                return [convert(item) for item in items if item]
            return convert(raw)
        except (argparse.ArgumentTypeError, ValueError) as ex:
            self.error(f"{env}: {ex}")

    def error(self, message: str) -> NoReturn:
        """One line, not the usage block: ``prog: error: message``."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def add_common(parser: OptionParser, name: str, *, polling: bool = True) -> None:
    """The options of every example pack: its name and polling interval."""
    parser.option("--name", env="PACK_NAME", default=name, help="pack name")
    if polling:
        parser.option(
            "--polling-interval",
            env="FLYTE_POLLING_INTERVAL",
            type=positive_float,
            default=DEFAULT_POLLING_INTERVAL,
            help="seconds between polls for actions when none waits, at least 0.5",
        )


def positive_float(raw: str) -> float:
    """A number above zero, for seconds."""
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{raw!r} must be above 0")
    return value


def positive_int(raw: str) -> int:
    """A whole number above zero, for sizes."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{raw!r} must be at least 1")
    return value


def configure_logging() -> None:
    """INFO and above to stderr: stdout belongs to the pack (the chat pack's)."""
    logging.basicConfig(
        level=logging.INFO, format=LOG_FORMAT, stream=sys.stderr, force=True
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)


def client_config(prog: str, environ: Mapping[str, str]) -> ClientConfig | None:
    """The client settings, or ``None`` after saying on stderr what is wrong."""
    try:
        return ClientConfig.from_env(environ, default_api=DEFAULT_LOCAL_API)
    except ConfigError as ex:
        print(f"{prog}: error: {ex}", file=sys.stderr)
        return None


def run(
    prog: str,
    pack: Pack,
    environ: Mapping[str, str],
    background: Background | None = None,
) -> int:
    """Run ``pack`` until SIGINT or SIGTERM; the process's exit status."""
    config = client_config(prog, environ)
    if config is None:
        return EXIT_USAGE
    configure_logging()  # Pack.run logs the API it starts against
    try:
        pack.run(config, environ, background=background)
    except ClientError as ex:
        print(f"{prog}: error: {ex}", file=sys.stderr)
        return EXIT_FAILURE
    return 0
