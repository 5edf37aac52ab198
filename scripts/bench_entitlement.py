"""Benchmark: throughput of ``GET /api/v1/entitlements/`` against a bare Django view returning a
constant JSON body, both served by the same gunicorn on PostgreSQL. Prints the ratio (goal ≥ 70 %).

Not a test (timings do not belong in assertions). Run it against PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_h15 REDIS_URL=redis://127.0.0.1:6379/3 \\
        .venv/bin/python scripts/bench_entitlement.py [--seconds 10] [--clients 4] [--workers 2]

Give REDIS_URL as deployed: the token's rate limit is counted there (without it each worker
counts alone, in its own memory).

It creates a throwaway database (``test_<name>``), builds the agencies, a vendor, a cleared
customer (through the services) and an API token, starts gunicorn with the project's settings plus
one extra route (``/bench/constant/``: the bare view, behind the same middleware), then drives
both addresses in turn from client processes (a new connection per request, as gunicorn's sync
workers close each one), and drops the database. The clients share the machine with the server,
so both figures include their cost; the ratio is what counts. The two are driven in alternate
turns (``--rounds``), so that a change in a shared machine's load falls on both alike; DEBUG is
off as in production (bench_entitlement_settings.py) and no worker restarts mid-measurement.

What the check costs beyond the bare view (api/views/lean_entitlement.py): with REDIS_URL, once
the answer is kept (api/entitlement_cache.py: exact, cleared by every change), one Redis MGET
per call; otherwise one prepared SQL statement (token by its digest, the vendor's model and
customer, their grants with conditions and enforcement actions). And a Redis round trip every
few dozen calls for the rate limit.
"""

import argparse
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def _client(url, headers, seconds, counter, errors, cpu):
    started = time.process_time()
    deadline = time.perf_counter() + seconds
    done = failed = 0
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - a local URL
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local URL
                response.read()
                done += 1 if response.status == 200 else 0
        except Exception:  # noqa: BLE001 - counted, not raised
            failed += 1
    with counter.get_lock():
        counter.value += done
    with errors.get_lock():
        errors.value += failed
    with cpu.get_lock():
        cpu.value += time.process_time() - started


def _cpu_seconds(pids):
    """User + system CPU time of these processes (Linux /proc), those that still run."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _server_pids(master):
    """gunicorn's master and its workers."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = []
    return [master, *map(int, children)]


def _backend_pids(database):
    """The PostgreSQL backends serving the benchmark's database (gunicorn's connections)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
        )
        return [pid for (pid,) in cursor.fetchall()]


def drive(url, headers, *, seconds, clients, server=None, database=None):
    """Requests per second and errors; with ``server`` (gunicorn's pid), also the CPU seconds the
    clients, gunicorn and PostgreSQL spent, and the requests answered."""
    counter, errors = multiprocessing.Value("i", 0), multiprocessing.Value("i", 0)
    cpu = multiprocessing.Value("d", 0.0)
    processes = [
        multiprocessing.Process(target=_client, args=(url, headers, seconds, counter, errors, cpu))
        for _ in range(clients)
    ]
    servers = _server_pids(server) if server else []
    backends = _backend_pids(database) if server else []
    before = _cpu_seconds(servers), _cpu_seconds(backends)
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    spent = (cpu.value, _cpu_seconds(servers) - before[0], _cpu_seconds(backends) - before[1])
    return counter.value / seconds, errors.value, counter.value, *spent


def wait_until_up(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - local URL
                return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer at {url}")


def build(database_url):
    """The world in the throwaway database, committed; returns the query string and the token."""
    import django

    django.setup()
    from api import services as api_services
    from approvals.tests.enforcement_helpers import approved
    from approvals.tests.factories import build_world

    world = build_world()
    grant = approved(world)
    _, secret = api_services.create_api_token(
        vendor=world.vendor, actor=world["vendor_admin"], name="bench", scope="read", expires_in_days=1
    )
    return f"model={grant.frontier_model_id}&customer={grant.partner_customer_id}", secret


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5, help="alternate the two in this many turns")
    parser.add_argument(
        "--cache-seconds",
        type=float,
        default=300,
        help="API_ENTITLEMENT_CACHE_SECONDS for the server (default 300, as deployed; 0: every "
        "check reads the database)",
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--existing",
        nargs=3,
        metavar=("TOKEN", "MODEL", "CUSTOMER"),
        help="use the database as it is (e.g. the demo) with this read token and pair, instead of "
        "building a throwaway one (its migrations take minutes on a loaded machine)",
    )
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    if connection.vendor != "postgresql":
        raise SystemExit("Run it on PostgreSQL: DATABASE_URL=postgres://…")
    test_name = None
    if args.existing is None:
        setup_test_environment()
        test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    server = None
    try:
        if args.existing is None:
            print("building the world (agencies, a vendor, a cleared customer, a token)…", flush=True)
            query, secret = build(os.environ["DATABASE_URL"])
        else:
            secret, model, customer = args.existing
            query = f"model={model}&customer={customer}"
        print("starting gunicorn…", flush=True)
        settings_dict = connection.settings_dict
        env = {
            **os.environ,
            "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/".format(**settings_dict)
            + (test_name or settings_dict["NAME"]),
            "DJANGO_SETTINGS_MODULE": "bench_entitlement_settings",
            "PYTHONPATH": f"{ROOT / 'scripts'}:{ROOT}",
            "GUNICORN_WORKERS": str(args.workers),
            "PORT": str(args.port),
            "LOG_LEVEL": "WARNING",
            "CONN_MAX_AGE": "60",
            "GUNICORN_MAX_REQUESTS": "0",  # no worker restarts in the middle of a measurement
            "API_ENTITLEMENT_CACHE_SECONDS": str(args.cache_seconds),
        }
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                str(ROOT / "gunicorn.conf.py"),
                "portal.wsgi:application",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{args.port}"
        wait_until_up(base + "/bench/constant/")
        api_url = f"{base}/api/v1/entitlements/?{query}"
        headers = {"Authorization": f"Bearer {secret}"}
        with urllib.request.urlopen(urllib.request.Request(api_url, headers=headers)) as response:  # noqa: S310
            answer = json.loads(response.read())
        assert answer["cleared"] is True, answer
        drive(api_url, headers, seconds=2, clients=args.clients)  # warm-up: connections, caches
        drive(base + "/bench/constant/", {}, seconds=2, clients=args.clients)
        # In turns, so that a change in the machine's load (it is shared) falls on both alike.
        database = test_name or settings_dict["NAME"]
        totals = {"bare": [0.0] * 6, "check": [0.0] * 6}
        turn = args.seconds / args.rounds
        for _ in range(args.rounds):
            for name, url, sent in (("bare", base + "/bench/constant/", {}), ("check", api_url, headers)):
                result = drive(
                    url, sent, seconds=turn, clients=args.clients, server=server.pid, database=database
                )
                totals[name] = [a + b for a, b in zip(totals[name], result, strict=True)]
        print(
            f"PostgreSQL, gunicorn {args.workers} sync workers, {args.clients} clients, "
            f"{args.seconds:.0f} s each in {args.rounds} turns"
        )
        bare, check = totals["bare"][0] / args.rounds, totals["check"][0] / args.rounds
        print(f"bare Django view (constant JSON): {bare:8.1f} req/s  ({totals['bare'][1]:.0f} errors)")
        print(f"GET /api/v1/entitlements/:        {check:8.1f} req/s  ({totals['check'][1]:.0f} errors)")
        print("CPU per request, ms: clients + gunicorn + PostgreSQL backends = total")
        per_request = {}
        for name, (_, _, done, clients_cpu, server_cpu, backend_cpu) in totals.items():
            parts = [x / max(done, 1) * 1000 for x in (clients_cpu, server_cpu, backend_cpu)]
            per_request[name] = sum(parts)
            print(f"  {name:5}  {parts[0]:.2f} + {parts[1]:.2f} + {parts[2]:.2f} = {sum(parts):.2f}")
        print(
            f"  their ratio {per_request['bare'] / per_request['check']:.0%}: what the throughput ratio "
            "approaches when the CPU (not waiting on a busy machine) is the limit"
        )
        print(f"ratio: {check / bare:.0%} (goal ≥ 70 %)")
        print(f"cache: {'Redis' if os.environ.get('REDIS_URL') else 'in-process (set REDIS_URL)'}")
        print(
            f"API_ENTITLEMENT_CACHE_SECONDS: {args.cache_seconds:g}"
            + (" (answers not kept)" if not args.cache_seconds else " (kept in Redis, cleared by changes)")
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        if test_name is not None:
            connection.creation.destroy_test_db(test_name, verbosity=0)


if __name__ == "__main__":
    main()
