"""``manage.py run_scheduled_jobs``: the scheduled jobs without Celery beat (see portal/scheduling.py)."""

import time

from django.core.management.base import BaseCommand, CommandError

from portal import scheduling


class Command(BaseCommand):
    help = "Run the scheduled jobs that are due (or one job now with --job, or every minute with --loop)."

    def add_arguments(self, parser):
        parser.add_argument("--job", action="append", default=[], help="run this job now (repeatable)")
        parser.add_argument("--list", action="store_true", help="list the jobs and their schedules")
        parser.add_argument("--loop", action="store_true", help="keep running, checking every --interval")
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between checks (--loop)")

    def handle(self, *args, **options):
        jobs = scheduling.jobs()
        if options["list"]:
            for name, (task, sched, _) in jobs.items():
                self.stdout.write(f"{name:<40} {task:<45} {sched}")
            return
        if options["job"]:
            unknown = [name for name in options["job"] if name not in jobs]
            if unknown:
                raise CommandError(f"No such job: {', '.join(unknown)}. See --list.")
            for name in options["job"]:
                result = scheduling.run_job(name)
                self.stdout.write(f"{name}: {result}")
            return
        while True:
            ran = scheduling.run_due_jobs()
            if options["verbosity"] > 1 and ran:
                self.stdout.write(f"ran: {', '.join(ran)}")
            if not options["loop"]:
                return
            time.sleep(options["interval"])
