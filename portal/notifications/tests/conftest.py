"""Fixtures for the notification tests (the fault-test machinery lives in ``faults.py``)."""

import pytest

from portal.tests.factories import agency_user, vendor_user


@pytest.fixture
def officer(db):
    return vendor_user(full_name="Vera Officer", email="vera@aurora.example")


@pytest.fixture
def colleague(officer):
    return vendor_user(organisation=officer.organisation, full_name="Colin Colleague")


@pytest.fixture
def official(db):
    return agency_user(full_name="Ada Official")


@pytest.fixture
def failing_smtp(settings):
    """Every send raises as a mail server answering 451 would."""
    settings.EMAIL_BACKEND = "portal.notifications.tests.backends.RefusingBackend"


@pytest.fixture
def rejecting_smtp(settings):
    """Every send is rejected for good (550)."""
    settings.EMAIL_BACKEND = "portal.notifications.tests.backends.RejectingBackend"


# --- fault-test machinery: a private Redis, an SMTP server and real workers ---------------


@pytest.fixture
def fault_stack(transactional_db, tmp_path):
    """Redis (private), SMTP (aiosmtpd, in-process) and a factory of real Celery workers.

    Skips without PostgreSQL, ``redis-server`` or aiosmtpd — and fails instead under CI=true.
    The workers use short backoff, grace and lease settings so that the tests take seconds.
    """
    import logging
    import shutil
    import uuid

    from django.db import connection

    from conftest import require_service
    from portal.notifications.tests import faults

    require_service(
        "PostgreSQL",
        connection.vendor == "postgresql",
        "the fault tests need PostgreSQL; run with DATABASE_URL=postgres://…",
    )
    require_service(
        "redis-server", shutil.which("redis-server"), "install redis-server (apt-get install redis)"
    )
    try:
        from aiosmtpd.controller import Controller
    except ImportError:  # pragma: no cover - aiosmtpd is in requirements-dev.txt
        Controller = None
    require_service("aiosmtpd", Controller is not None, "pip install aiosmtpd")

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's line-by-line log
    stack = FaultStack(tmp_path, queue=f"notifications-{uuid.uuid4().hex[:8]}")
    try:
        stack.redis.start()
        stack.smtp_controller = Controller(stack.smtp, hostname="127.0.0.1", port=faults.free_port())
        stack.smtp_controller.start()
        with faults.publishing_to(stack.redis.url, stack.queue):
            yield stack
    finally:
        stack.close()


class FaultStack:
    def __init__(self, tmp_path, *, queue):
        from portal.notifications.tests import faults

        self.tmp_path = tmp_path
        self.queue = queue
        self.redis = faults.RedisServer(tmp_path / "redis.log")
        self.smtp = faults.SmtpRecorder()
        self.smtp_controller = None
        self.workers = []
        self.settings = {
            "NOTIFICATIONS_RETRY_BACKOFF_BASE": "0.25",
            "NOTIFICATIONS_RETRY_BACKOFF_MAX": "2",
            "NOTIFICATIONS_MAX_ATTEMPTS": "15",
            "NOTIFICATIONS_SWEEP_PENDING_AFTER": "1",
            "NOTIFICATIONS_SENDING_LEASE": "4",
        }

    def worker_env(self):
        import os

        from portal.notifications.tests import faults

        return {
            **os.environ,
            "DATABASE_URL": faults.database_url_for_subprocess(),
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": self.redis.url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_controller.port}",
            "EMAIL_TIMEOUT": "20",
            "PORTAL_VAR_DIR": str(self.tmp_path / "var"),
            **self.settings,
        }

    def start_worker(self, *, wait=True):
        from portal.notifications.tests import faults

        name = f"w{len(self.workers) + 1}"
        worker = faults.Worker(self.worker_env(), self.tmp_path / f"worker-{name}.log", name)
        self.workers.append(worker)
        return worker.wait_ready() if wait else worker

    def send_task(self, name, *args):
        from portal.celery import app

        return app.send_task(name, args=args, queue=self.queue)

    def logs(self):
        return "\n".join(f"--- {w.name}\n{w.log()[-4000:]}" for w in self.workers)

    def close(self):
        # SIGKILL, not a warm shutdown: a worker asked to stop finishes its wait on the broker
        # first (about a second each, one after the other), and nothing is checked after the test;
        # what it leaves in the queue goes with the test's Redis, its database session with it
        for worker in self.workers:
            worker.kill()
        if self.smtp_controller is not None:
            self.smtp_controller.stop()
        self.redis.stop()
