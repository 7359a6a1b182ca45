"""Fuzz the API from its own OpenAPI document with schemathesis (not in the suite).

Starts a real ``flyte dev`` on free ports, runs ``schemathesis run`` against
``/v1/swagger`` with the server-error and response-schema checks, stops it.

    pip install schemathesis
    python bench/fuzz/run_schemathesis.py [--max-examples 30] [--seed 1]

Extra arguments after ``--`` go to ``schemathesis run`` unchanged. The exit
status is schemathesis's; reports land in ``--report-dir``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.e2e.bench_e2e import start_dev  # noqa: E402
from flyte.devserver.embedded import free_port  # noqa: E402

CHECKS = "not_a_server_error,response_schema_conformance"


def main() -> int:
    """Start flyte dev, fuzz it, stop it; return schemathesis's exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report-dir", default="schemathesis-report")
    parser.add_argument("extra", nargs="*", help="passed to schemathesis run")
    args = parser.parse_args()
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if exe is None:
        raise SystemExit("schemathesis is not installed: pip install schemathesis")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="flyte-fuzz-") as tmp:
        dev = start_dev(Path(tmp), port, free_port(), free_port())
        try:
            command = [
                exe,
                "run",
                f"http://127.0.0.1:{port}/v1/swagger",
                "--url",
                f"http://127.0.0.1:{port}",
                "--checks",
                CHECKS,
                "--max-examples",
                str(args.max_examples),
                "--seed",
                str(args.seed),
                "--report",
                "junit",
                "--report-dir",
                args.report_dir,
                *args.extra,
            ]
            return subprocess.call(command)
        finally:
            # flyte dev runs in a session of its own: stop the whole group.
            os.killpg(dev.pid, signal.SIGTERM)
            dev.wait(30)


if __name__ == "__main__":
    sys.exit(main())
