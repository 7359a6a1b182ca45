"""A RabbitMQ virtual host of the test session's own, and a relay to cut it off.

The tests use the RabbitMQ at ``RABBITMQ_URL`` (default: 127.0.0.1:5672,
guest/guest, which this kind of machine runs). Unless ``RABBITMQ_URL`` is set,
each test session creates a virtual host of its own with ``rabbitmqctl`` and
deletes it at the end, so parallel sessions never see each other's messages.
When no RabbitMQ answers, the tests that need it are skipped, with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextlib import suppress
from urllib.parse import quote
from urllib.parse import urlsplit

import pika
import pytest

from flyte.devserver.embedded import free_port

DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
#: Test virtual hosts are named ``flyte-test-<unix time>-<random>``; one older
#: than this was left by a session that was killed, and is deleted.
VHOST_PREFIX = "flyte-test-"
STALE_AFTER_SECONDS = 86400
#: Dramatiq's queues of Flyte's actors, and their delay and dead-letter queues.
FLYTE_QUEUES = tuple(
    f"{name}{suffix}"
    for name in ("events", "housekeeping")
    for suffix in ("", ".DQ", ".XQ")
)


def rabbitmq_url() -> str:
    """The RabbitMQ the tests use: ``RABBITMQ_URL``, else the local default."""
    return os.environ.get("RABBITMQ_URL", "").strip() or DEFAULT_RABBITMQ_URL


def unreachable_reason(url: str) -> str | None:
    """Why RabbitMQ at ``url`` cannot be used, or ``None`` when it answers."""
    try:
        connection = pika.BlockingConnection(
            pika.URLParameters(f"{url}?socket_timeout=2&connection_attempts=1")
        )
    except Exception as ex:  # noqa: BLE001 - any failure means "not reachable"
        where = urlsplit(url).netloc.rpartition("@")[2]
        return f"no RabbitMQ reachable at {where} (set RABBITMQ_URL): {ex!r}"
    connection.close()
    return None


@contextmanager
def session_vhost() -> Iterator[str]:
    """The URL of a virtual host for this session; skips when RabbitMQ is absent.

    With ``RABBITMQ_URL`` set, that URL is used as given: name a virtual host of
    the tests' own in it. Otherwise a new one is created and deleted after.
    """
    base = rabbitmq_url()
    reason = unreachable_reason(base)
    if reason:
        pytest.skip(reason)
    if os.environ.get("RABBITMQ_URL"):
        yield base
        delete_queues(base)
        return
    delete_stale_vhosts()
    vhost = f"{VHOST_PREFIX}{int(time.time())}-{uuid.uuid4().hex[:8]}"
    if not _rabbitmqctl("add_vhost", vhost):
        pytest.skip(
            "cannot create a RabbitMQ virtual host (rabbitmqctl failed or is "
            "missing); set RABBITMQ_URL to a virtual host of the tests' own"
        )
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, _user(base), ".*", ".*", ".*")
        parts = urlsplit(base)
        yield parts._replace(path=f"/{quote(vhost, safe='')}").geturl()
    finally:
        _rabbitmqctl("delete_vhost", vhost)


def delete_queues(url: str, names: tuple[str, ...] = FLYTE_QUEUES) -> None:
    """Delete the queues ``names`` on ``url`` (those missing are skipped)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        for name in names:
            channel = connection.channel()
            with suppress(pika.exceptions.ChannelClosedByBroker):
                channel.queue_delete(name)
            with suppress(pika.exceptions.AMQPError):
                channel.close()
    finally:
        connection.close()


def close_connections(vhost: str) -> bool:
    """Have RabbitMQ drop every client connection of ``vhost``, as a restart does."""
    return _rabbitmqctl(
        "close_all_connections", "--vhost", vhost, "flyte test: connections cut"
    )


def _user(url: str) -> str:
    return urlsplit(url).username or "guest"


def delete_stale_vhosts(now: float | None = None) -> None:
    """Delete test virtual hosts over a day old: their session was killed."""
    command = shutil.which("rabbitmqctl")
    if command is None:
        return
    listed = subprocess.run(
        [command, "list_vhosts", "--quiet", "--no-table-headers"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    oldest = (now or time.time()) - STALE_AFTER_SECONDS
    for name in listed.stdout.split():
        stamp = name.removeprefix(VHOST_PREFIX).partition("-")[0]
        if name.startswith(VHOST_PREFIX) and stamp.isdigit() and int(stamp) < oldest:
            _rabbitmqctl("delete_vhost", name)


def _rabbitmqctl(*args: str) -> bool:
    command = shutil.which("rabbitmqctl")
    if command is None:
        return False
    done = subprocess.run(
        [command, *args], capture_output=True, timeout=30, check=False
    )
    return done.returncode == 0


class Relay:
    """A TCP relay to RabbitMQ that a test cuts and restores, as an outage would.

    Clients connect to ``port``; ``cut`` drops every connection and refuses new
    ones, ``restore`` accepts them again on the same port.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.port = free_port()
        self._target = target
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self.restore()

    def url(self, url: str) -> str:
        """``url`` pointing at this relay instead of RabbitMQ."""
        parts = urlsplit(url)
        auth = parts.netloc.rpartition("@")[0]
        return parts._replace(netloc=f"{auth}@127.0.0.1:{self.port}").geturl()

    def restore(self) -> None:
        """Accept connections again (a no-op while accepting)."""
        if self._listener is not None:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Refuse new connections and drop every open one."""
        with self._lock:
            if self._listener is not None:
                # shutdown wakes the thread blocked in accept; close alone
                # would leave the port listening until that accept returns.
                with suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            for sock in self._sockets:
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                server = socket.create_connection(self._target, timeout=2)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    with suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with suppress(OSError):
        sink.shutdown(socket.SHUT_RDWR)
