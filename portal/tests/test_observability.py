"""Request ids, structured log lines and the request id on history rows."""

import io
import json
import logging
import time
from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from portal.accounts.models import User
from portal.observability import context
from portal.observability.logs import ContextFilter, JsonFormatter
from portal.observability.middleware import RequestIdMiddleware
from portal.tests.factories import PASSWORD, vendor_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_lines():
    """The JSON lines the portal's loggers write during the test, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    request_logger = logging.getLogger("portal.request")
    previous = request_logger.level
    request_logger.setLevel(logging.INFO)
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)
    request_logger.setLevel(previous)


def test_every_response_names_its_request_id(client):
    first = client.get("/accounts/login/")
    second = client.get("/accounts/login/")
    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_trusted_header_is_kept_and_a_hostile_one_replaced(client):
    assert client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-1234.abc")["X-Request-ID"] == "lb-1234.abc"
    hostile = client.get("/accounts/login/", HTTP_X_REQUEST_ID="x\nforged log line")["X-Request-ID"]
    assert hostile != "x\nforged log line"
    assert len(hostile) == 32


def test_no_header_is_trusted_when_the_setting_is_empty(client, settings):
    settings.REQUEST_ID_HEADER = ""
    assert client.get("/accounts/login/", HTTP_X_REQUEST_ID="lb-1234")["X-Request-ID"] != "lb-1234"


def test_the_request_line_is_json_with_time_level_logger_request_user_and_organisation(client, json_lines):
    user = vendor_user()
    client.force_login(user)
    response = client.get("/notifications/")
    assert response.status_code == 200
    lines = [line for line in json_lines() if line["logger"] == "portal.request"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] == user.pk
    assert line["organisation"] == user.organisation.name
    assert line["level"] == "INFO"
    assert line["status"] == 200
    assert line["path"] == "/notifications/"
    assert line["time"].endswith("+00:00")


def test_an_anonymous_request_line_has_no_user(client, json_lines):
    response = client.get("/accounts/login/")
    (line,) = [line for line in json_lines() if line["logger"] == "portal.request"]
    assert line["request_id"] == response["X-Request-ID"]
    assert line["user_id"] is None
    assert line["organisation"] is None


def test_history_rows_written_in_a_request_carry_its_id():
    user = vendor_user(full_name="Before")

    def view(request):
        user.full_name = "After"
        user._change_reason = "renamed"
        user.save()
        from django.http import HttpResponse

        return HttpResponse("ok")

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="req-history-1")
    response = RequestIdMiddleware(view)(request)
    assert response["X-Request-ID"] == "req-history-1"
    record = user.history.latest()
    assert record.full_name == "After"
    assert record.history_request_id == "req-history-1"
    # and outside any request nothing is invented
    user.full_name = "Later"
    user.save()
    assert user.history.latest().history_request_id == ""


def test_signing_in_writes_no_request_id_of_another_request(client):
    user = vendor_user()
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    ids = set(User.history.filter(id=user.pk).values_list("history_request_id", flat=True))
    assert ids <= {"", response["X-Request-ID"]}


def test_context_is_reset_after_the_request(client):
    client.get("/accounts/login/")
    assert context.current_request_id() == ""


@pytest.mark.integration
def test_one_request_id_in_the_log_the_task_log_and_the_history_row(
    client, settings, celery_worker_process, json_lines
):
    from portal.celery import app as celery_app

    # given an account nobody has used for four months, and a view that queues the sweep
    dormant = vendor_user(last_login=timezone.now() - timedelta(days=120))
    settings.ROOT_URLCONF = "portal.tests.urls_observability"
    celery_app.conf.task_always_eager = False
    previous_broker = celery_app.conf.broker_url
    celery_app.conf.broker_url = celery_worker_process.broker_url
    try:
        # when a request queues it for a real worker
        response = client.get(f"/test/queue-dormant-sweep/?queue={celery_worker_process.queue}")
    finally:
        celery_app.conf.broker_url = previous_broker
        celery_app.conf.task_always_eager = True
    request_id = response["X-Request-ID"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dormant.refresh_from_db()
        if not dormant.is_active:
            break
        time.sleep(0.2)
    assert not dormant.is_active, celery_worker_process.log()
    # then the request's log line, the task's log line and the history row share the id
    (request_line,) = [line for line in json_lines() if line["logger"] == "portal.request"]
    assert request_line["request_id"] == request_id
    task_lines = []
    deadline = time.monotonic() + 10
    while not task_lines and time.monotonic() < deadline:
        task_lines = [
            json.loads(line)
            for line in celery_worker_process.log().splitlines()
            if line.startswith("{") and '"portal.tasks"' in line
        ]
        time.sleep(0.2)
    assert task_lines, celery_worker_process.log()
    assert task_lines[0]["request_id"] == request_id
    assert task_lines[0]["task"] == "accounts.deactivate_dormant_accounts"
    assert dormant.history.latest().history_request_id == request_id


def test_the_audit_export_carries_the_request_id(client):
    from datetime import date

    from portal.audit.export import as_csv, audit_rows
    from portal.tests.factories import auditor

    reader = auditor()
    user = vendor_user(full_name="Before")
    tokens = context.bind(request_id="req-export-1")
    try:
        user.full_name = "After"
        user._change_reason = "renamed"
        user.save()
    finally:
        context.unbind(tokens)
    today = timezone.localdate()
    rows = [r for r in audit_rows(reader, start=today, end=today) if r.model == "accounts.user"]
    assert "req-export-1" in {r.request_id for r in rows}
    assert as_csv(rows).splitlines()[0].endswith(",history_id,request_id")
    assert isinstance(today, date)
