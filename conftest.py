"""Fixtures shared by every app's tests."""

import gc
import json
import os
import socket
from collections import Counter
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import transaction

from portal.celery import app as celery_app

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_service(name, reachable, how):
    """Skip with a clear reason when a service is absent; under CI, fail instead."""
    if reachable:
        return
    message = f"{name} is not available: {how}"
    if IN_CI:
        pytest.fail(f"CI requires {message}")
    pytest.skip(message)


def port_open(url, default_port):
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def pytest_xdist_auto_num_workers(config):
    """``-n auto`` (pyproject.toml's default): one worker more than the machine has cores. The
    suite waits as well as computes (on the browser, on subprocesses, on PostgreSQL's answers),
    and a third worker on two cores works through those waits: .ci/run's suite took 614 s with
    three workers against 746 s with two on the same 2-core machine (2026-11-29)."""
    return (os.cpu_count() or 1) + 1


# The longest files first, so that the workers finish together: pytest-xdist (--dist loadfile,
# --no-loadscope-reorder) hands whole files out in this order, each to the next free worker.
# Each file's seconds come from tests/durations.json (scripts/refresh_test_durations writes it
# from a run's JUnit report); a file not in it counts a tenth of a second per test. This runs
# after pytest-django's own sort (plain database tests, then those that commit, then those
# without the database): a test that commits leaves the tables empty again, as they were built
# (``_empty_the_tables_that_have_rows``), so the files may come in any order. The sort is stable,
# so each file keeps its tests together and in their order.
DURATIONS = Path(__file__).resolve().parent / "tests" / "durations.json"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session, config, items):
    measured = json.loads(DURATIONS.read_text()) if DURATIONS.exists() else {}
    counts = Counter(item.nodeid.split("::", 1)[0] for item in items)

    def seconds(item):
        path = item.nodeid.split("::", 1)[0]
        return measured.get(path, 0.1 * counts[path])

    items.sort(key=lambda item: (-seconds(item), item.nodeid.split("::", 1)[0]))
    # Two tests under one id: pytest-xdist hands tests out by id, and all but one of them never
    # ran, silently (pytest 9.2 gave schemathesis's 25 per-operation tests of api/tests/
    # test_contract.py one id: 1 of 25 ran under -n; requirements-dev.txt pins 9.1.1).
    repeated = sorted(nodeid for nodeid, count in Counter(item.nodeid for item in items).items() if count > 1)
    if repeated:
        raise pytest.UsageError(
            f"{len(repeated)} test id(s) name more than one test, so that pytest-xdist would run only "
            f"one of each: {', '.join(repeated[:5])}"
        )


# --- worlds built once per module ------------------------------------------------------------

TRANSACTIONAL_FIXTURES = {
    "transactional_db",
    "live_server",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def needs_real_commits(item):
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transactional = marker.kwargs.get("transaction", marker.args[0] if marker.args else False)
        if transactional or marker.kwargs.get("reset_sequences") or marker.kwargs.get("serialized_rollback"):
            return True
    return bool(TRANSACTIONAL_FIXTURES & set(getattr(item, "fixturenames", ())))


class RolledBackAtTheEnd:
    """A transaction (or a savepoint inside one) for rows that tests share: the rows built in it
    stay for the tests of a module and are rolled back when the block ends. Database access is
    opened only to enter and leave it; build the rows inside ``django_db_blocker.unblock()``."""

    def __init__(self, django_db_blocker):
        self.blocker = django_db_blocker

    def __enter__(self):
        with self.blocker.unblock():
            self.atomic = transaction.atomic()
            self.atomic._from_testcase = True  # as django.test.TestCase's: durable blocks still work
            self.atomic.__enter__()
        return self

    def __exit__(self, *exc_info):
        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """After a class-, module- or session-wide fixture has built shared rows in a transaction that
    is kept open for the tests (``RolledBackAtTheEnd``, ``built_once_per_module`` and the hand-made
    ones), their deferred foreign-key checks run there, once. Left pending, PostgreSQL ran them
    again at the end of every test: each test ends with Django's ``SET CONSTRAINTS ALL
    IMMEDIATE`` in its savepoint, and rolling the savepoint back marks the checks fired in it as
    not done (measured: 0.54 s for 100,000 pending rows, again in each savepoint; 0.5 ms once run
    in the outer transaction). Each test's own rows are still checked at its end."""
    outcome = yield
    if fixturedef.scope == "function" or outcome.excinfo is not None:
        return
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with request.config.stash[blocking_manager_key].unblock():
            connection.check_constraints()


def built_once_per_module(request, django_db_blocker, build):
    """The body of a module-scoped world fixture (``yield from`` it): ``build()`` once for the
    module, in a transaction rolled back when the module is done, so that each test (in its
    savepoint, pytest-django's ``db``) sees it as built. ``None`` where a test of the module needs
    real commits: those build their world per test."""
    module_items = [item for item in request.session.items if item.module is request.module]
    if any(needs_real_commits(item) for item in module_items):
        yield None
        return
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            world = build()
        yield world


def world_fixtures(build, refresh):
    """``module_world, world = world_fixtures(build, refresh)`` in a conftest: ``world`` is
    ``build()``'s world, built once per module (``built_once_per_module``) and handed to each test
    as ``refresh(world)`` (fresh objects of the same rows), or built per test in a module that
    commits."""

    @pytest.fixture(scope="module")
    def module_world(request, django_db_setup, django_db_blocker):
        yield from built_once_per_module(request, django_db_blocker, build)

    @pytest.fixture
    def world(module_world, db):
        return build() if module_world is None else refresh(module_world)

    return module_world, world


@pytest.fixture(scope="module")
def demo_seeded_once(django_db_setup, django_db_blocker):
    """The demo world (``seed_demo``), seeded once for the module and rolled back at its end."""
    from django.core.management import call_command

    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            call_command("seed_demo", verbosity=0)
        yield


@pytest.fixture
def demo_world(demo_seeded_once, db):
    """The seeded demo world, as ``seed_demo`` left it (each test's changes are rolled back)."""


def _empty_the_tables_that_have_rows(self):
    """After a test that commits (``transaction=True``, ``live_server``), empty the tables it wrote
    to, as Django's ``flush`` does, without truncating all ~140 of them.

    ``flush`` issues one ``TRUNCATE`` of every table: PostgreSQL makes new files for each table
    and index, 0.87 s per test here whatever the test wrote. This deletes the rows of the tables
    that have any (about 20), with the foreign keys checked at the commit, then sends
    ``post_migrate`` as ``flush`` does (content types, permissions): 0.2 s. Elsewhere (SQLite,
    ``available_apps``, serialized rollback) it is Django's own flush."""
    from django.core.management.sql import emit_post_migrate_signal
    from django.db import connections

    names = list(self._databases_names(include_mirrors=False))
    if (
        self.available_apps is not None
        or self.serialized_rollback
        or any(connections[name].vendor != "postgresql" for name in names)
    ):
        return _DJANGO_FIXTURE_TEARDOWN(self)
    for name in names:
        connection = connections[name]
        tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
        quote = connection.ops.quote_name
        with transaction.atomic(using=name), connection.cursor() as cursor:
            cursor.execute(
                # (the tables' names come from the models, quoted)
                " UNION ALL ".join(f"SELECT %s WHERE EXISTS (SELECT 1 FROM {quote(t)})" for t in tables),  # noqa: S608
                tables,
            )
            with_rows = [row[0] for row in cursor.fetchall()]
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in with_rows:
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
        emit_post_migrate_signal(verbosity=0, interactive=False, db=name)


def _quick_flush_after_committing_tests():
    from django.test import TransactionTestCase

    global _DJANGO_FIXTURE_TEARDOWN
    if TransactionTestCase._fixture_teardown is not _empty_the_tables_that_have_rows:
        _DJANGO_FIXTURE_TEARDOWN = TransactionTestCase._fixture_teardown
        TransactionTestCase._fixture_teardown = _empty_the_tables_that_have_rows


_DJANGO_FIXTURE_TEARDOWN = None


def pytest_configure(config):
    _quick_flush_after_committing_tests()


def pytest_collection_finish(session):
    """Once the tests are collected (in each worker): what is loaded by then (Django, the apps,
    the test modules: 366,000 objects when every file is collected) is set aside from the cyclic
    garbage collector (``gc.freeze()``), and young objects are collected every 50,000 allocations
    instead of every 700. The route walk + the transition matrix (421 tests, ``-n0``): 1.2 s of the
    process's ~37 s in the collector, 1,238 young collections; 0.3 s and 313 after."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def _fast_test_settings(settings):
    """Cheap password hashes, no PDF typesetting, plain static files, no second factor.

    Applied for the whole session (class- and module-scoped worlds are built before any
    function-scoped fixture runs: they hashed each demo password with PBKDF2, half a second
    apiece, and typeset every decision letter) and again per test, after anything a test changed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Issue 13: the second factor is tested in portal/tests/test_mfa.py and in the browser journeys
    # (tests/browser/conftest.py turns it on); elsewhere force_login stands for a verified sign-in.
    settings.PORTAL_REQUIRE_MFA = False
    # Typesetting a PDF costs about a second; tests about letters ask for it (``letters_pdf``),
    # the rest keep the letter's page, as a server without WeasyPrint does.
    settings.LETTERS_PDF = False
    settings.JOBS_IN_A_THREAD = False  # (a test sees the job's end when its request returns)
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database; before it is dropped at the end of the run, the sessions
    left on it are ended (a live server's request thread or a subprocess that had not closed its
    connection yet): the drop failed with "is being accessed by other users" and left the
    database behind."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True, scope="session")
def _fast_for_every_scope():
    from django.conf import settings as django_settings
    from django.test.signals import setting_changed

    _fast_test_settings(django_settings)
    for name in ("PASSWORD_HASHERS", "STORAGES"):  # (Django caches what these build)
        setting_changed.send(sender=None, setting=name, value=getattr(django_settings, name), enter=True)


@pytest.fixture(autouse=True)
def _fast_and_in_process(settings):
    """Unit tests hash passwords cheaply and run Celery tasks in-process."""
    _fast_test_settings(settings)
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    # A test that published to a real broker (publishing_to) closes its producer pool on the
    # way out; drop any pool left behind so the next test makes a fresh one when it needs it.
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.__dict__["amqp"]._producer_pool = None
    from django.core.cache import cache

    cache.clear()  # sign-in throttle counters must not leak between tests
    from api import throttling

    # nor the API's rate-limit leases this process holds (on SQLite a rolled-back token's id is
    # given again, and the next test's token inherited the last one's lease in the same minute)
    with throttling._lock:
        throttling._leases.clear()
        throttling._alone.clear()
    yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def letters_pdf(settings):
    """Letters issued in this test are typeset as PDFs, as in production."""
    settings.LETTERS_PDF = True


@pytest.fixture
def redis_url():
    """The Redis the integration tests use (TEST_REDIS_URL, default database 15 on localhost)."""
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    require_service("Redis", port_open(url, 6379), f"start Redis or set TEST_REDIS_URL (tried {url})")
    return url


@pytest.fixture
def postgres_only(db):
    from django.db import connection

    require_service(
        "A PostgreSQL test database",
        connection.vendor == "postgresql",
        "this test needs it; run the suite with DATABASE_URL=postgres://…",
    )


class WorkerProcess:
    """A real ``celery worker --pool=solo`` on Redis, consuming its own queue."""

    def __init__(self, *, broker_url, queue, process, log_path):
        self.broker_url = broker_url
        self.queue = queue
        self.process = process
        self.log_path = log_path

    def send(self, task_name, *args, **kwargs):
        from kombu import Connection

        with Connection(self.broker_url) as connection:
            return celery_app.send_task(
                task_name, args=args, kwargs=kwargs, queue=self.queue, connection=connection
            )

    def log(self):
        return self.log_path.read_text(errors="replace")


def database_url_for_subprocess():
    """The test database as a URL, so that a worker process writes where the test reads."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(redis_url, transactional_db, postgres_only, tmp_path):
    import subprocess
    import sys
    import time
    import uuid

    queue = f"test-{uuid.uuid4().hex[:12]}"
    log_path = tmp_path / "worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_FORMAT": "json",  # as in production: tests read the task's log lines
    }
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    worker = WorkerProcess(broker_url=redis_url, queue=queue, process=process, log_path=log_path)
    deadline = time.monotonic() + 60
    while "ready." not in worker.log():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the Celery worker did not start:\n{worker.log()}")
        time.sleep(0.2)
    yield worker
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
