"""``manage.py recount_dashboard``: rebuild the agency dashboard's kept counts from the rows
(``approvals.models.dashboard``), e.g. after rows were changed outside the services."""

from django.core.management.base import BaseCommand
from django.db import transaction

from approvals.models import DashboardTally
from approvals.models.dashboard import recount_dashboard


class Command(BaseCommand):
    help = "Rebuild the agency dashboard's kept counts (the tally) from the requests and referrals."

    def handle(self, *args, **options):
        with transaction.atomic():
            recount_dashboard()
        self.stdout.write(f"Dashboard recounted: {DashboardTally.objects.count()} tally rows.")
