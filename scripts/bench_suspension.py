"""Benchmark: pull a model with 10,000 active grants offline, then lift the suspension.

Not a test (timings do not belong in assertions). Run it against the database to measure,
for example PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_d \\
        .venv/bin/python scripts/bench_suspension.py [--grants 10000] [--runs 3]

It creates a throwaway test database (``test_<name>``), builds the agencies, a vendor and the
grants in bulk, then times ``suspend_model`` and ``lift_suspension`` (each one transaction,
notifications and history included), and drops the database.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection, reset_queries, transaction
    from django.test.utils import CaptureQueriesContext, setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        from approvals.models import Grant
        from approvals.tests.enforcement_helpers import bulk_grants, lift, suspend
        from approvals.tests.factories import build_world

        world = build_world()
        started = time.perf_counter()
        bulk_grants(world, args.grants)
        print(
            f"{connection.vendor}: {args.grants:,} active grants set up in "
            f"{time.perf_counter() - started:.1f} s"
        )
        suspend_times, lift_times = [], []

        def timed(call):
            """Seconds until the transaction committed, seconds including what runs after commit
            (without a broker, the e-mails are sent in-process then), and the queries."""
            committed = []
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                with transaction.atomic():
                    transaction.on_commit(lambda: committed.append(time.perf_counter()))
                    call()
                finished = time.perf_counter()
            return committed[0] - started, finished - started, len(queries)

        for run in range(1, args.runs + 1):
            reset_queries()
            commit, total, count = timed(lambda: suspend(world, expected_grants=args.grants))
            suspend_times.append(commit)
            assert Grant.objects.filter(status=Grant.Status.SUSPENDED).count() == args.grants
            print(
                f"run {run}: suspend committed in {commit:.2f} s ({total:.2f} s with mail sent), "
                f"{count} queries"
            )
            commit, total, count = timed(lambda: lift(world, expected_grants=args.grants))
            lift_times.append(commit)
            assert Grant.objects.filter(status=Grant.Status.ACTIVE).count() == args.grants
            print(
                f"run {run}: lift committed in {commit:.2f} s ({total:.2f} s with mail sent), {count} queries"
            )
        print(
            f"median over {args.runs} runs: suspend {statistics.median(suspend_times):.2f} s, "
            f"lift {statistics.median(lift_times):.2f} s to commit, for {args.grants:,} grants"
        )
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
