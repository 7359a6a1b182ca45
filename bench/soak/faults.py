"""Faults at random: SIGKILL a web, worker, scheduler or Redis; pause a worker."""

from __future__ import annotations

import logging
import random
import signal
import threading
import time
from collections import Counter

from bench.soak.cluster import Cluster
from bench.soak.cluster import Proc

logger = logging.getLogger("soak.faults")

#: Fault kinds, and the process kind each one hits.
KINDS = {
    "kill-web": "web",
    "kill-worker": "worker",
    "kill-scheduler": "scheduler",
    "kill-redis": "redis",
    "pause-worker": "worker",
}
#: A killed process is started again after this many seconds (at random).
RESTART_AFTER = (0.5, 3.0)
#: A paused worker gets SIGCONT after this many seconds (at random).
PAUSE_FOR = (1.0, 5.0)


class FaultInjector:
    """Injects one fault every ``interval`` seconds (jittered) until stopped."""

    def __init__(self, cluster: Cluster, interval: float, seed: int) -> None:
        self._cluster = cluster
        self._interval = interval
        self._random = random.Random(seed)
        self.injected: Counter[str] = Counter()
        self._stop = threading.Event()
        self._pending: list[threading.Thread] = []

    def run(self, until: float) -> None:
        """Inject faults until ``until`` (monotonic), then wait for the restarts."""
        while not self._stop.wait(self._interval * self._random.uniform(0.5, 1.5)):
            if time.monotonic() >= until:
                break
            self.inject(self._random.choice(sorted(KINDS)))
        for thread in self._pending:
            thread.join()

    def stop(self) -> None:
        """Stop injecting."""
        self._stop.set()

    def inject(self, kind: str) -> None:
        """One fault of ``kind`` on a random process of its kind."""
        proc = self._random.choice(self._cluster.procs[KINDS[kind]])
        if not proc.is_alive() or proc.stopped:
            return  # still down from the last fault: pick again next time
        self.injected[kind] += 1
        if kind == "pause-worker":
            seconds = self._random.uniform(*PAUSE_FOR)
            logger.info("fault: SIGSTOP %s for %.1f s", proc.name, seconds)
            proc.signal(signal.SIGSTOP)
            self._later(seconds, lambda: proc.signal(signal.SIGCONT))
            return
        seconds = self._random.uniform(*RESTART_AFTER)
        logger.info("fault: SIGKILL %s, restart in %.1f s", proc.name, seconds)
        proc.kill()
        self._later(seconds, lambda: self._restart(proc))

    def _restart(self, proc: Proc) -> None:
        self._cluster.restart(proc)

    def _later(self, seconds: float, action: object) -> None:
        def wait_then_act() -> None:
            time.sleep(seconds)
            action()  # type: ignore[operator]

        thread = threading.Thread(target=wait_then_act, daemon=True)
        thread.start()
        self._pending.append(thread)
