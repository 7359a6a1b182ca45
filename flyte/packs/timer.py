"""The Timer pack: no commands; sends ``Tick`` events on the cron schedules of a
YAML file, so flows can run something nightly, hourly, every Monday...
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from datetime import datetime

from flyte.contract.times import utcnow
from flyte.packs import options
from flyte.packs.errors import InvalidTimers
from flyte.packs.schedule import Schedule
from flyte.packs.schedule import Timer
from flyte.packs.schedule import load_timers
from flyte.sdk import Pack
from flyte.sdk.errors import ClientError
from flyte.sdk.runner import Background
from flyte.sdk.runner import PackRunner

logger = logging.getLogger(__name__)

DEFAULT_NAME = "Timer"
TICK = "Tick"
#: The longest single wait: a wall-clock jump (suspend, NTP) is noticed this soon.
MAX_WAIT_SECONDS = 60.0


def build_pack(name: str = DEFAULT_NAME) -> Pack:
    """The Timer pack: it only sends ``Tick`` events."""
    return Pack(name, events=[TICK])


def timer_loop(
    runner: PackRunner,
    timers: list[Timer],
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """Send each timer's ticks until ``runner.stopping`` is set."""
    schedule = Schedule(timers, clock)
    for timer in timers:
        logger.info(
            "Timer %s (%s) first fires at %s",
            timer.name,
            timer.cron,
            timer.next_after(clock()).isoformat(),
        )
    while not runner.stopping.is_set():
        for tick in schedule.due(clock()):
            if tick.skipped:
                logger.warning(
                    "Timer %s missed %d earlier time(s) while paused; firing once",
                    tick.timer.name,
                    tick.skipped,
                )
            _send(runner, tick.payload())
        wait = (schedule.next_time() - clock()).total_seconds()
        runner.stopping.wait(min(max(wait, 0.0), MAX_WAIT_SECONDS))


def _send(runner: PackRunner, payload: dict[str, object]) -> None:
    try:
        runner.send_event(TICK, payload)
    except ClientError as ex:
        # A tick is a moment: sending it late would be wrong, so it is dropped.
        logger.error("Timer %s tick not sent: %s", payload["name"], ex)
        return
    logger.info("Timer %s ticked for %s", payload["name"], payload["scheduledAt"])


def background(timers: list[Timer]) -> Background:
    """The loop, ready for ``pack.run(..., background=...)``."""
    return lambda runner: timer_loop(runner, timers)


def read_timers(path: str) -> list[Timer]:
    """The timers of the YAML file at ``path``."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except OSError as ex:
        raise InvalidTimers([f"cannot read {path}: {ex.strerror or ex}"]) from ex
    return load_timers(text)


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """Run the Timer pack until SIGINT or SIGTERM."""
    prog = "flyte pack run timer"
    parser = options.OptionParser(prog, "Send Tick events on cron schedules.", environ)
    options.add_common(parser, DEFAULT_NAME, polling=False)
    parser.option(
        "--config",
        env="FLYTE_TIMER_CONFIG",
        help="YAML file: timers: [{name, cron, timezone?, payload?}]",
    )
    args = parser.parse(argv)
    if not args.config:
        parser.error("--config (or FLYTE_TIMER_CONFIG) is required")
    try:
        timers = read_timers(args.config)
    except InvalidTimers as ex:
        print(f"{prog}: error: {args.config}:", file=sys.stderr)
        for problem in ex.problems:
            print(f"  {problem}", file=sys.stderr)
        return options.EXIT_USAGE
    return options.run(prog, build_pack(args.name), environ, background(timers))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
