"""Write today's digests now (normally the hourly beat job does it after the digest hour)."""

from django.core.management.base import BaseCommand

from portal.notifications import services


class Command(BaseCommand):
    help = "Send each person the daily digest of their held routine notifications."

    def handle(self, *args, **options):
        written = services.send_digests(hour=0)
        self.stdout.write(f"digests written: {written}")
