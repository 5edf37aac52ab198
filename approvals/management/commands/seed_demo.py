"""``manage.py seed_demo``: fill an empty database with the demo world. Safe to run twice."""

from django.core.management.base import BaseCommand
from django.db import transaction

from approvals.demo import amendments as demo_amendments
from approvals.demo import enforcement as demo_enforcement
from approvals.demo import requests as approvals_demo
from portal.accounts import demo as accounts_demo
from vendors import demo as vendors_demo


class Command(BaseCommand):
    help = "Create the demo organisations, people and records of DESIGN.md (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Then add N access requests in bulk (PostgreSQL), for measurements: see scripts/bench.",
        )

    def handle(self, *args, **options):
        with transaction.atomic():
            organisations = accounts_demo.seed_accounts()
            vendors_demo.seed_vendors(organisations)
            approvals_demo.seed_approvals(organisations)
            demo_enforcement.seed_enforcement(organisations)
            demo_amendments.seed_amendments(organisations)
        self.stdout.write(self.style.SUCCESS("Demo world ready. Every demo password is 'portal-demo':"))
        for email, _, _, _, who in accounts_demo.PEOPLE:
            self.stdout.write(f"  {email:<30} {who}")
        if options["scale"] > 0:
            from approvals.demo.scale import seed_scale

            self.stdout.write(f"Adding {options['scale']} access requests in bulk:")
            seed_scale(options["scale"], log=self.stdout.write)
