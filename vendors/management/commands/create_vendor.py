"""``manage.py create_vendor "Legal Name" --admin-email a@b --admin-name "A B"``: scripted set-up of a
vendor organisation, its vendor record and its first compliance admin (invited by mail)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.accounts import services as account_services
from portal.accounts.models import Organisation, Role
from portal.errors import PortalError
from vendors import services
from vendors.onboarding.services import require_free_name


class Command(BaseCommand):
    help = "Create a vendor organisation and vendor, and invite its first compliance admin."

    def add_arguments(self, parser):
        parser.add_argument("legal_name")
        parser.add_argument("--identifiers", default="", help="UEI, EIN or registration numbers.")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True)
        parser.add_argument("--reason", default="Created with manage.py create_vendor.")

    def handle(self, *args, legal_name, identifiers, admin_email, admin_name, reason, **options):
        actor = account_services.system_user()
        try:
            with transaction.atomic():
                require_free_name(legal_name)
                organisation = account_services.create_organisation(
                    name=legal_name, kind=Organisation.Kind.VENDOR, actor=actor, reason=reason
                )
                vendor = services.create_vendor(
                    organisation=organisation,
                    legal_name=legal_name,
                    registration_ids=identifiers,
                    primary_contact_name=admin_name,
                    primary_contact_email=admin_email,
                    actor=actor,
                    reason=reason,
                )
                admin = account_services.invite_account(
                    organisation=organisation,
                    email=admin_email,
                    full_name=admin_name,
                    role=Role.VENDOR_ADMIN,
                    actor=actor,
                    reason=reason,
                )
                services.sync_member_groups(admin, vendor=vendor)
        except PortalError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(f"Vendor {vendor} created; {admin.email} invited as compliance admin.")
        )
