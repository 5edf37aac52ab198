"""Run the outbox sweep once: what the beat job does every minute, by hand.

Useful with the embedded default (no broker, no beat), where a mail that failed stays
waiting until the sweep runs.
"""

from django.core.management.base import BaseCommand

from portal.notifications import services


class Command(BaseCommand):
    help = "Re-queue unsent notifications, reclaim those of dead workers, fail those out of attempts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            action="store_true",
            help="Queue every pending notification now, however recent, even one waiting to retry.",
        )

    def handle(self, *args, now=False, **options):
        counts = services.sweep_outbox(everything=now)
        self.stdout.write(", ".join(f"{key}: {value}" for key, value in counts.items()))
