"""What one MongoDB command costs the embedded nx-27017 (a script, not a test).

Starts nx-27017 as ``flyte dev`` does, on a fresh data directory, and measures
the server's CPU time per document and the client's wall time per document for
the commands Flyte's hot path sends: single inserts, finds and updates, and the
same grouped as ``flyte/store/batching.py`` groups them. nx-27017 runs its
event loop on uvloop when uvloop is installed: ``--uvloop both`` measures the
server with and without it, one after the other (uvloop must be installed).

It shows the floor under the CPU per event: each command costs the server a
fixed share (wire protocol, asyncio, a thread hop, JSON) whatever it carries,
so fewer and fuller commands are what make an event cheaper.

Run: ``.venv/bin/python bench/nx/bench_nx.py [--uvloop both]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]
from pymongo import MongoClient
from pymongo import UpdateOne

from flyte.devserver.embedded import free_port
from flyte.devserver.embedded import mongo_command

DOCS = 2000
#: A document about the size of an event as the bench's packs post it.
PAYLOAD = {"text": "x" * 300, "labels": {"env": "prod"}, "n": [1, 2, 3]}


def start_server(data_dir: Path, uvloop: bool) -> tuple[subprocess.Popen[bytes], int]:
    """nx-27017 on a free port; without uvloop, its import is made to fail."""
    port = free_port()
    env = dict(os.environ)
    if not uvloop:
        hider = data_dir / "no-uvloop"
        hider.mkdir()
        (hider / "uvloop.py").write_text("raise ImportError('hidden by the bench')\n")
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(hider), env.get("PYTHONPATH")])
        )
    server = subprocess.Popen(
        mongo_command(data_dir, port),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client: MongoClient[dict[str, Any]] = MongoClient(port=port)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.admin.command("ping")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    client.close()
    return server, port


def doc() -> dict[str, Any]:
    return {"_id": uuid.uuid4().hex, "payload": PAYLOAD}


def measure(
    server: psutil.Process, work: Callable[[], object], docs: int
) -> dict[str, float]:
    """Server CPU ms and client wall ms per document while ``work`` runs."""
    cpu = server.cpu_times()
    start = time.perf_counter()
    work()
    wall = time.perf_counter() - start
    after = server.cpu_times()
    used = (after.user - cpu.user) + (after.system - cpu.system)
    return {
        "server_cpu_ms_per_doc": round(1000 * used / docs, 3),
        "wall_ms_per_doc": round(1000 * wall / docs, 3),
    }


def measure_commands(port: int, server: psutil.Process) -> dict[str, Any]:
    """Each hot-path command, alone and grouped."""
    client: MongoClient[dict[str, Any]] = MongoClient(port=port)
    coll = client["bench_nx"]["docs"]
    results: dict[str, Any] = {}

    def inserts(batch: int) -> Callable[[], object]:
        if batch == 1:
            return lambda: [coll.insert_one(doc()) for _ in range(DOCS)]
        return lambda: [
            coll.insert_many([doc() for _ in range(batch)], ordered=False)
            for _ in range(DOCS // batch)
        ]

    for batch in (1, 2, 4, 8):
        results[f"insert, {batch} per command"] = measure(server, inserts(batch), DOCS)
    ids = [d["_id"] for d in coll.find({}, {"_id": 1}).limit(DOCS)]
    results["find_one by _id"] = measure(
        server, lambda: [coll.find_one({"_id": i}) for i in ids], len(ids)
    )
    results["find by _id $in, 4 per command"] = measure(
        server,
        lambda: [
            list(coll.find({"_id": {"$in": ids[j : j + 4]}}))
            for j in range(0, len(ids), 4)
        ],
        len(ids),
    )
    results["update_one"] = measure(
        server,
        lambda: [
            coll.update_one({"_id": i}, {"$set": {"status": "done"}}) for i in ids
        ],
        len(ids),
    )
    results["bulk update, 4 per command"] = measure(
        server,
        lambda: [
            coll.bulk_write(
                [
                    UpdateOne({"_id": i}, {"$set": {"status": "again"}})
                    for i in ids[j : j + 4]
                ],
                ordered=False,
            )
            for j in range(0, len(ids), 4)
        ],
        len(ids),
    )
    client.close()
    return results


def run(uvloop: bool) -> dict[str, Any]:
    """Start a server (with or without uvloop), measure it, stop it."""
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp), uvloop)
        try:
            return measure_commands(port, psutil.Process(server.pid))
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    """Measure and print JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--uvloop", choices=["on", "off", "both"], default="off")
    args = parser.parse_args()
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.uvloop]
    results = {f"uvloop {'on' if mode else 'off'}": run(mode) for mode in modes}
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
