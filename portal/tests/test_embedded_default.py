"""The embedded default keeps time: scheduled jobs run without Redis, mail links name the port."""

import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone

from portal import scheduling

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def state_file(settings, tmp_path):
    settings.SCHEDULER_STATE_FILE = tmp_path / "scheduler.json"
    return settings.SCHEDULER_STATE_FILE


def lapse_the_open_question():
    """Move the open information request's deadline into the past."""
    InformationRequest = apps.get_model("approvals", "InformationRequest")
    question = InformationRequest.objects.get(status="open")
    InformationRequest.objects.filter(pk=question.pk).update(
        deadline=timezone.localdate() - timedelta(days=1)
    )
    return question.access_request


@pytest.mark.django_db
def test_every_job_runs_once_then_waits_until_due(state_file):
    import time_machine

    # at 10:20:30, a minute from any hourly or daily job's time (at 09:04:15 the minute after
    # crossed 09:05, the hourly return of lapsed requests: the test failed by the clock)
    start = timezone.localtime().replace(hour=10, minute=20, second=30, microsecond=0)
    with time_machine.travel(start, tick=False):
        first = scheduling.run_due_jobs()
        assert first == list(scheduling.jobs())
        assert scheduling.run_due_jobs() == []
    # a minute later only the one-minute jobs (the outbox's and the webhooks' sweeps) are due again
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert sorted(scheduling.run_due_jobs()) == ["api-sweep-webhooks", "notifications-sweep-outbox"]


@pytest.mark.django_db
def test_a_lapsed_question_is_returned_by_the_scheduler(state_file):
    # a request whose vendor was asked a question (the review's world, not the whole demo's)
    from approvals import services
    from approvals.tests.factories import build_world, submitted

    world = build_world()
    services.issue_information_request(
        access_request=submitted(world), actor=world["doc_reviewer"], question="Which customers?"
    )
    access_request = lapse_the_open_question()
    assert "approvals-return-lapsed-requests" in scheduling.run_due_jobs()
    access_request.refresh_from_db()
    assert access_request.status == "returned"


@pytest.mark.django_db
def test_each_job_runs_by_hand(state_file, capsys):
    call_command("run_scheduled_jobs", job=["approvals-expire-lapsed-grants"])
    assert "approvals-expire-lapsed-grants:" in capsys.readouterr().out
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No such job"):
        call_command("run_scheduled_jobs", job=["no-such-job"])


def free_port():
    ports = list(range(8300, 8400))
    random.shuffle(ports)
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 8300-8399")


def test_scripts_serve_keeps_time_and_names_its_port(tmp_path):
    # given the demo world on the embedded default with a question past its deadline
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "PORTAL_BASE_URL", "PORTAL_ENV", "DJANGO_SETTINGS_MODULE"}
    }
    env["PORTAL_VAR_DIR"] = str(tmp_path)
    # the demo people's passwords hashed cheaply, as in the backup test (a test-only switch of
    # portal/settings.py): PBKDF2 was 8.7 of seed_demo's 23.4 s of CPU here; nobody signs in
    env["PORTAL_TEST_FAST_PASSWORD_HASHES"] = "1"
    manage = [sys.executable, "manage.py"]
    for args in (["prepare_database", "-v0"], ["seed_demo"]):
        subprocess.run([*manage, *args], cwd=ROOT, env=env, check=True, capture_output=True, timeout=600)
    database = tmp_path / "portal.sqlite3"
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    with sqlite3.connect(database) as db:
        (tracking_number,) = db.execute(
            "SELECT r.tracking_number FROM approvals_informationrequest q "
            "JOIN approvals_accessrequest r ON r.id = q.access_request_id WHERE q.status = 'open'"
        ).fetchone()
        db.execute("UPDATE approvals_informationrequest SET deadline = ? WHERE status = 'open'", [yesterday])
    # when the first command starts the portal on a chosen port, and nobody runs anything
    port = free_port()
    env["PORT"] = str(port)
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115 - closed below
    started = time.time()
    process = subprocess.Popen(
        [str(ROOT / "scripts" / "serve")],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        status, deadline = None, time.monotonic() + 240
        while time.monotonic() < deadline and status != "returned":
            time.sleep(1)
            with sqlite3.connect(database, timeout=20) as db:
                (status,) = db.execute(
                    "SELECT status FROM approvals_accessrequest WHERE tracking_number = ?", [tracking_number]
                ).fetchone()
        # then the question was returned, and the mail it sent links to that port
        assert status == "returned", (tmp_path / "serve.log").read_text()
        # (a file holds every mail of one outbox batch: split it into its messages. The mail is
        # written after the request is returned, and its file can exist still empty: wait for it
        # among the files written since the portal started; the seed's own mails, which mention
        # the same request and link to localhost:8000, are older)
        returned, deadline = [], time.monotonic() + 60
        while not returned and time.monotonic() < deadline:
            time.sleep(0.5)
            files = [f for f in (tmp_path / "mail").glob("*.log") if f.stat().st_mtime >= started]
            files.sort(key=lambda f: f.stat().st_mtime)
            mails = [m for f in files for m in f.read_text(errors="replace").split("-" * 79) if m.strip()]
            returned = [m for m in mails if tracking_number in m and "returned" in m.lower()]
        assert returned, "no mail about the returned request"
        assert f"http://127.0.0.1:{port}/" in returned[-1]
        assert "localhost:8000" not in returned[-1]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()
