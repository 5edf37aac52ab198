"""``manage.py demo_codes``: the current second-factor code of every demo login (issue 13).

The demo logins have seeded authenticators (``seed_demo``); this prints what their apps would
show now, so the demo can be tried with the second factor on. Only the seeded demo secrets are
read: a real person's authenticator is never printed. Refused in production.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.accounts import mfa
from portal.accounts.demo import demo_devices
from portal.errors import PortalError


class Command(BaseCommand):
    help = "Print the current TOTP code of every demo login (not in production)."

    def handle(self, *args, **options):
        if getattr(settings, "PRODUCTION", False):
            raise CommandError("demo_codes is for the demo world only; it is refused in production.")
        rows = sorted(demo_devices(), key=lambda row: row[0])
        if not rows:
            self.stdout.write("No demo authenticators: run `python manage.py seed_demo` first.")
            return
        self.stdout.write("Codes to type now (each accepted once; run this again for the next sign-in):")
        for email, device in rows:
            try:  # this half-minute's code, or the next one's when this one was used
                code = mfa.current_code(device)
            except PortalError:
                code = "(used twice in this half-minute: wait 30 seconds)"
            self.stdout.write(f"  {email:<30} {code}")
