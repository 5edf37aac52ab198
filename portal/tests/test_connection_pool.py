"""PostgreSQL through a pool of open connections (portal/settings.py, DATABASES' "pool").

A request takes a connection that is already open, and gives it back at its end: the live
server's requests (each in a thread of its own, as under gunicorn's threads) are served by
connections already open, not by a new PostgreSQL server process each. A connection goes from
one thread's Django wrapper to another's with the statements prepared on it
(``portal.db_operations.execute_prepared``).
"""

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.db import connection, connections
from django.http import HttpResponse
from django.urls import include, path

from portal.db_operations import execute_prepared

ROOT = Path(__file__).resolve().parents[2]


def backend_pid(request):
    """The PostgreSQL server process that serves this request's connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return HttpResponse(str(cursor.fetchone()[0]))


urlpatterns = [path("test/backend-pid/", backend_pid), path("", include("portal.urls"))]


@pytest.mark.integration
def test_the_live_servers_requests_are_served_by_open_connections(postgres_only, live_server, settings):
    # given the portal on PostgreSQL with its default settings (the pool on)
    assert connection.settings_dict["OPTIONS"].get("pool"), "the pool is on by default on PostgreSQL"
    settings.ROOT_URLCONF = __name__
    url = f"{live_server.url}/test/backend-pid/"
    urllib.request.urlopen(url, timeout=10).close()  # (a first request: the pool has opened one)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        open_before = {row[0] for row in cursor.fetchall()}
    # when five requests come one after another, each in a new thread of the live server
    served_by = set()
    for _ in range(5):
        with urllib.request.urlopen(url, timeout=10) as response:
            served_by.add(int(response.read()))
    # then connections that were already open served them all (the pool hands its idle ones out
    # in turn); without the pool each request had a new PostgreSQL server process of its own
    assert served_by <= open_before, (served_by, open_before)


@pytest.mark.integration
def test_a_connection_postgresql_closed_while_it_waited_is_replaced(postgres_only, live_server, settings):
    # given the live server's one pooled connection, waiting in the pool between requests
    settings.ROOT_URLCONF = __name__
    url = f"{live_server.url}/test/backend-pid/"
    with urllib.request.urlopen(url, timeout=10) as response:
        first = int(response.read())
    # when PostgreSQL ends its session (as a restart or an administrator would)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [first])
            if cursor.fetchone()[0] == 0:
                break
            time.sleep(0.05)
    # then the next request is served, on a new connection (without the check: a server error)
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        assert int(response.read()) != first


@pytest.mark.integration
def test_a_statement_prepared_on_a_connection_is_not_prepared_again_for_another_thread(postgres_only):
    # given a statement prepared on the connection one thread's wrapper holds
    with connection.cursor() as cursor:
        execute_prepared(connection, cursor, "pool_probe", "SELECT $1 + 1", (1,), types="int")
        assert cursor.fetchone() == (2,)
        # when the pool hands the same open connection to another thread's wrapper, which runs it
        other = connections.create_connection("default")
        other.connection = connection.connection
        try:
            execute_prepared(other, cursor, "pool_probe", "SELECT $1 + 1", (41,), types="int")
            # then it runs the statement already prepared (PREPARE again: "already exists")
            assert cursor.fetchone() == (42,)
        finally:
            other.connection = None  # (the connection is the test's: not closed by this wrapper)


PROBE = """
import importlib, json, os
import portal.settings as s
out = {}
for case, env in {"default": {}, "off": {"DATABASE_POOL": "false"}, "persistent": {"CONN_MAX_AGE": "60"},
                  "sized": {"DATABASE_POOL_MAX_SIZE": "3"}}.items():
    os.environ.update(env)
    importlib.reload(s)
    out[case] = s.DATABASES["default"].get("OPTIONS", {}).get("pool")
    for name in env:
        del os.environ[name]
print(json.dumps(out))
"""


def test_the_pool_is_on_by_default_and_off_when_asked_or_with_persistent_connections():
    # given the settings read with a PostgreSQL DATABASE_URL and each switch
    environment = {k: v for k, v in os.environ.items() if k not in ("DATABASE_POOL", "CONN_MAX_AGE")}
    environment["DATABASE_URL"] = "postgres://portal@127.0.0.1:5432/portal"
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    pools = json.loads(result.stdout.strip().splitlines()[-1])
    # then the pool is on by default, off when DATABASE_POOL=false or CONN_MAX_AGE is above 0
    # (Django refuses both at once), and sized by DATABASE_POOL_MAX_SIZE
    assert pools == {
        "default": {"min_size": 1, "max_size": 10},
        "off": None,
        "persistent": None,
        "sized": {"min_size": 1, "max_size": 3},
    }
