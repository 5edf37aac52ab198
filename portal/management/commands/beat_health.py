"""``manage.py beat_health``: exits non-zero unless Celery beat sent the outbox sweep recently.

The sweep is scheduled every minute, and django-celery-beat records when it last sent it;
the beat container's health check runs this command.
"""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

HEARTBEAT_JOB = "notifications-sweep-outbox"


class Command(BaseCommand):
    help = "Check that Celery beat is sending the scheduled jobs (for the container health check)."

    def add_arguments(self, parser):
        parser.add_argument("--max-age", type=int, default=300, help="seconds since the last minute job")

    def handle(self, *args, **options):
        from django_celery_beat.models import PeriodicTask

        last = PeriodicTask.objects.filter(name=HEARTBEAT_JOB).values_list("last_run_at", flat=True).first()
        if last is None:
            raise CommandError(f"Celery beat has not sent {HEARTBEAT_JOB} yet.")
        age = timezone.now() - last
        if age > timedelta(seconds=options["max_age"]):
            raise CommandError(f"Celery beat last sent {HEARTBEAT_JOB} {age.total_seconds():.0f} s ago.")
        self.stdout.write(f"ok: {HEARTBEAT_JOB} sent {age.total_seconds():.0f} s ago")
