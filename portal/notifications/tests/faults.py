"""Real components for the fault tests: a private Redis, an SMTP server, Celery workers.

Each test gets its own ``redis-server`` on a free port (so that stopping it disturbs nobody),
an in-process aiosmtpd server on a free port that can refuse or stall, and real
``celery worker --pool=solo`` processes pointed at the test database, that Redis and that
SMTP server.
"""

import asyncio
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from urllib.parse import quote

from kombu import pools

from portal.celery import app as celery_app


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, *, timeout, interval=0.1, message="condition"):
    """Poll ``predicate`` until it is true; fail with ``message`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")


class RedisServer:
    """A throw-away ``redis-server`` without persistence: stopping it loses its queues."""

    def __init__(self, log_path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.process = None

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self.ping, timeout=10, message=f"redis-server on port {self.port}")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        wait_for(lambda: not self.ping(), timeout=5, message="redis-server to stop")


class SmtpRecorder:
    """An aiosmtpd handler that records what it accepts, and can refuse (451) or stall.

    A stalled DATA is cancelled by aiosmtpd when the client goes away, so, like a real
    mail server, it accepts a message only when it could tell the client so.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.accepted = []
        self.refusals = []
        self.refuse_until = 0.0
        self.stall = False
        self.in_data = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content)
        key = message["X-Portal-Notification"]
        if time.monotonic() < self.refuse_until:
            with self.lock:
                self.refusals.append((key, time.monotonic()))
            return "451 4.3.0 Mail server busy, try again later"
        if self.stall:
            self.in_data.set()
            for _ in range(600):  # until the test lifts the stall or the client disappears
                if not self.stall:
                    break
                await asyncio.sleep(0.05)
            if server.transport is None:  # the client is gone: nothing was accepted
                return "421 4.4.2 Connection lost"
        with self.lock:
            self.accepted.append(
                {
                    "key": key,
                    "to": list(envelope.rcpt_tos),
                    "message_id": message["Message-ID"],
                    "subject": message["Subject"],
                    "message": message,
                    "at": time.monotonic(),
                }
            )
        return "250 2.0.0 Accepted"

    def keys(self):
        with self.lock:
            return [item["key"] for item in self.accepted]

    def duplicates(self):
        return {key: n for key, n in Counter(self.keys()).items() if n > 1}


class Worker:
    """One ``celery -A portal worker --pool=solo`` subprocess."""

    def __init__(self, env, log_path, name):
        self.env = env
        self.log_path = log_path
        self.name = name
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "portal",
                    "worker",
                    "--pool=solo",
                    "-Q",
                    env["CELERY_TASK_DEFAULT_QUEUE"],
                    "-n",
                    f"{name}@%h",
                    "--loglevel=INFO",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def log(self):
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout=60):
        def ready():
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited:\n{self.log()}")
            return "ready." in self.log()

        wait_for(ready, timeout=timeout, message=f"worker {self.name} to start")
        return self

    def kill(self):
        """SIGKILL: no clean shutdown, no acknowledgement, nothing recorded."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def database_url_for_subprocess():
    """The test database as a URL, so that a worker writes where the test reads."""
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextmanager
def publishing_to(broker_url, queue):
    """Point this process's Celery app at ``broker_url``, queueing for real (not in-process)."""
    conf = celery_app.conf
    saved = {
        name: conf[name]
        for name in ("broker_url", "task_always_eager", "task_default_queue", "broker_connection_timeout")
    }

    def reset_pools():
        # Celery's pools live in kombu's registries, keyed by the broker's address: close them and
        # empty the registries, or the next test to publish to the same address is handed a
        # producer pool whose connections were closed here ("Acquire on closed pool").
        pools.reset()
        celery_app._pool = None
        if "amqp" in celery_app.__dict__:
            celery_app.__dict__["amqp"]._producer_pool = None

    conf.broker_url = broker_url
    conf.task_always_eager = False
    conf.task_default_queue = queue
    conf.broker_connection_timeout = 2
    reset_pools()
    try:
        yield
    finally:
        reset_pools()
        for name, value in saved.items():
            conf[name] = value
