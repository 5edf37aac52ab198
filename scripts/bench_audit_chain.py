"""Benchmark: what the tamper-evident history chain costs 8 concurrent writers.

Not a test (timings do not belong in assertions). Run it against PostgreSQL::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_d \\
        .venv/bin/python scripts/bench_audit_chain.py [--writers 8] [--writes 150] [--rounds 3]

It creates a throwaway database (``bench_chain_<name>``), gives each writer its own records (one
organisation and one user per writer: unrelated writes, all in the same two history tables),
then times ``--writers`` threads, each committing ``--writes`` transactions that change one of
its records through a service path (``save_with_history``: row lock, update, history row),
with the chain off (``AUDIT_CHAIN_ENABLED=False``) and on, alternately, ``--rounds`` times. It
prints the median wall time of each and their ratio (the goal: at most 1.3), then drops the
database.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--writes", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keepdb", action="store_true", help="Keep the test database for the next run.")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, connections, transaction
    from django.test.utils import setup_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    # its own database, so that it never collides with a test run's test_<name>
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"bench_chain_{old_name}"
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=args.keepdb)
    try:
        from portal.accounts.models import Organisation, Role, User
        from portal.audit.history import save_with_history

        # --keepdb: a second run starts from a clean slate of bench rows
        User.objects.filter(email__endswith="bench.example").delete()
        User.objects.filter(email="bench@portal.example").delete()
        Organisation.objects.filter(name__startswith="Bench").delete()
        actor = User.objects.create_user(
            "bench@portal.example",
            "x",
            full_name="Bench operator",
            organisation=Organisation.objects.create(name="Bench operator", kind=Organisation.Kind.OPERATOR),
            role=Role.PORTAL_ADMIN,
        )
        records = []
        for n in range(args.writers):
            organisation = Organisation.objects.create(
                name=f"Bench vendor {n}", kind=Organisation.Kind.VENDOR
            )
            user = User.objects.create_user(
                f"writer{n}@bench.example",
                "x",
                full_name=f"Writer {n}",
                organisation=organisation,
                role=Role.VENDOR_OFFICER,
            )
            records.append((organisation.pk, user.pk))

        def writer(n, label, errors):
            organisation_pk, user_pk = records[n]
            try:
                for i in range(args.writes):
                    with transaction.atomic():
                        if i % 2:
                            user = User.objects.select_for_update().get(pk=user_pk)
                            user.full_name = f"Writer {n} {label} {i}"
                            save_with_history(user, actor=actor, reason="Bench.", update_fields=["full_name"])
                        else:
                            organisation = Organisation.objects.select_for_update().get(pk=organisation_pk)
                            organisation.name = f"Bench vendor {n} {label} {i}"
                            save_with_history(
                                organisation, actor=actor, reason="Bench.", update_fields=["name"]
                            )
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                connections.close_all()

        def run(chained, label):
            settings.AUDIT_CHAIN_ENABLED = chained
            errors = []
            threads = [threading.Thread(target=writer, args=(n, label, errors)) for n in range(args.writers)]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            if errors:
                raise errors[0]
            return elapsed

        run(True, "warm-up")
        times = {False: [], True: []}
        for r in range(args.rounds):
            for chained in (False, True):
                times[chained].append(run(chained, f"r{r}{int(chained)}"))
        settings.AUDIT_CHAIN_ENABLED = True
        plain, chained = statistics.median(times[False]), statistics.median(times[True])
        total = args.writers * args.writes
        runs = {key: ", ".join(f"{t:.2f}" for t in values) for key, values in times.items()}
        print(
            f"{connection.vendor}: {args.writers} writers x {args.writes} transactions ({total} rows a run)"
        )
        print(f"  without the chain: {plain:.2f} s (median of {args.rounds}: {runs[False]})")
        print(f"  with the chain:    {chained:.2f} s (median of {args.rounds}: {runs[True]})")
        print(f"  ratio chained / plain: {chained / plain:.2f} (goal <= 1.30)")
    finally:
        connections.close_all()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=args.keepdb)


if __name__ == "__main__":
    main()
