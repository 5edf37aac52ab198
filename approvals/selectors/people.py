"""Who is concerned: a vendor's compliance team, an agency's officials, the lead agency."""

from approvals.models import (
    Agency,
)
from approvals.policies import VENDOR_ACTOR_ROLES
from portal.accounts.models import AGENCY_ROLES, User


def lead_agency():
    return Agency.objects.filter(is_lead=True).first()


def vendor_compliance_team(vendor):
    """Who hears about a vendor's requests: its compliance admins and officers."""
    return list(
        User.objects.filter(
            organisation_id=vendor.organisation_id, role__in=VENDOR_ACTOR_ROLES, is_active=True
        )
    )


def agency_officials(agency, roles=AGENCY_ROLES):
    return list(User.objects.filter(organisation_id=agency.organisation_id, role__in=roles, is_active=True))
