"""The scheduled jobs without Celery beat: for the embedded default and for operators.

The jobs are ``CELERY_BEAT_SCHEDULE`` itself (one list for both ways of running them). In
production Celery beat publishes them to the workers. On the embedded default (no Redis)
``manage.py run_scheduled_jobs --loop``, started by ``scripts/serve``, checks once a
minute which are due and runs them in-process; when each last ran is kept in
``var/scheduler.json``. Every job can also be run by hand:
``manage.py run_scheduled_jobs --job approvals-return-lapsed-requests``.
"""

import fcntl
import json
import logging
import time
import uuid
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from celery.schedules import schedule as every
from django.conf import settings
from django.utils import timezone

from portal.observability import context

logger = logging.getLogger(__name__)


def jobs():
    """``{name: (task name, schedule, kwargs)}`` in settings order."""
    out = {}
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        sched = entry["schedule"]
        if isinstance(sched, (int, float)):
            sched = every(sched)
        out[name] = (entry["task"], sched, dict(entry.get("kwargs") or {}))
    return out


def state_path():
    return Path(getattr(settings, "SCHEDULER_STATE_FILE", settings.VAR_DIR / "scheduler.json"))


@contextmanager
def locked_state():
    """The last-run times, under an exclusive lock so that two schedulers never both run a job."""
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            state = json.loads(path.read_text()) if path.exists() else {}
        except ValueError:
            state = {}
        yield state
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
        tmp.replace(path)


def run_job(name):
    """Run one job now, in this process. Returns the task's result; never raises."""
    from portal.celery import app

    task_name, _, kwargs = jobs()[name]
    app.loader.import_default_modules()
    task = app.tasks[task_name]
    tokens = context.bind(request_id=f"job-{uuid.uuid4().hex[:12]}")
    started = time.perf_counter()
    try:
        result = task.apply(kwargs=kwargs, throw=True).get()
    except Exception:
        logger.exception("Scheduled job %s failed", name, extra={"job": name})
        return None
    finally:
        context.unbind(tokens)
    logger.info(
        "Scheduled job %s done: %s",
        name,
        result,
        extra={"job": name, "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
    )
    return result


def due_jobs(state, now):
    due = []
    for name, (_, sched, _) in jobs().items():
        last = state.get(name)
        if last is None:
            due.append(name)
            continue
        last_run = datetime.fromisoformat(last)
        is_due, _ = sched.is_due(last_run)
        if is_due:
            due.append(name)
    return due


def run_due_jobs(*, now=None):
    """Run every job that is due (each one never run before counts as due). Returns their names."""
    now = now or timezone.now()
    ran = []
    with locked_state() as state:
        for name in due_jobs(state, now):
            run_job(name)
            state[name] = timezone.now().isoformat()
            ran.append(name)
    return ran
