"""``manage.py create_agency DOE "Department of Energy" --admin-email a@doe.gov --admin-name "A B"``:
scripted set-up of an agency organisation and agency, and the invitation of its first
administrator (who then decides, with a second administrator, who reviews and approves)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from approvals import services
from portal.accounts import services as account_services
from portal.accounts.models import Organisation, Role
from portal.errors import PortalError


class Command(BaseCommand):
    help = "Create an agency organisation and agency, and invite its first agency administrator."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("name")
        parser.add_argument("--lead", action="store_true")
        parser.add_argument("--two-persons", action="store_true", help="Require two persons to sign.")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--admin-name", required=True)
        parser.add_argument("--reason", default="Created with manage.py create_agency.")

    def handle(self, *args, code, name, lead, two_persons, admin_email, admin_name, reason, **options):
        actor = account_services.system_user()
        try:
            with transaction.atomic():
                organisation = account_services.create_organisation(
                    name=name, kind=Organisation.Kind.AGENCY, actor=actor, reason=reason
                )
                agency = services.create_agency(
                    organisation=organisation,
                    code=code,
                    name=name,
                    is_lead=lead,
                    requires_two_persons=two_persons,
                    actor=actor,
                    reason=reason,
                )
                admin = account_services.invite_account(
                    organisation=organisation,
                    email=admin_email,
                    full_name=admin_name,
                    role=Role.AGENCY_ADMIN,
                    actor=actor,
                    reason=reason,
                )
        except PortalError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            self.style.SUCCESS(f"Agency {agency.code} created; {admin.email} invited as its administrator.")
        )
