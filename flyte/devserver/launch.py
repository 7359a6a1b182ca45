"""Launch ``flyte dev`` as a child process, as the end-to-end tests and benches do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

from flyte.devserver.embedded import free_port

#: Settings that would point the child at other servers than its embedded ones.
_OUTSIDE_SERVERS = ("FLYTE_MGO_HOST", "REDIS_URL")


def launch_dev(
    data_dir: Path,
    port: int,
    *,
    mongo_port: int = 0,
    redis_port: int = 0,
    options: Sequence[str] = (),
    extra_env: Mapping[str, str] | None = None,
    into_pipe: bool = False,
) -> subprocess.Popen[bytes]:
    """``flyte dev [options]`` on ``port``, with its own nx-27017 and Redis.

    Port 0 picks a free one. The output goes to ``data_dir/dev.out``, or to a
    pipe with ``into_pipe``. The child leads a session of its own, so killing its
    process group stops everything it started.
    """
    env = {k: v for k, v in os.environ.items() if k not in _OUTSIDE_SERVERS}
    env.update(FLYTE_DATA_DIR=str(data_dir), FLYTE_PORT=str(port), **(extra_env or {}))
    command = [str(Path(sys.executable).parent / "flyte"), "dev"]
    command += ["--mongo-port", str(mongo_port or free_port())]
    command += ["--redis-port", str(redis_port or free_port()), *options]
    with (data_dir / "dev.out").open("wb") as log:
        return subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE if into_pipe else log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
