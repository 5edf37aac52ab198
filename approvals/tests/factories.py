"""Builders for the review process's tests: agencies, officials and requests in any state.

Everything goes through the services, so a request built here is exactly what a person
would have produced through the pages.
"""

from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from approvals.models import Agency
from portal.accounts.models import Organisation, Role
from portal.accounts.services import system_user
from portal.tests.factories import OrganisationFactory, UserFactory, auditor, portal_admin
from vendors.choices import Sector
from vendors.models import FrontierModel
from vendors.tests.factories import (
    FrontierModelFactory,
    PartnerCustomerFactory,
    VendorFactory,
    vendor_admin,
    vendor_officer,
    vendor_viewer,
)

AGENCY_CODES = ["DOC", "ONCD", "OSTP", "CISA", "STATE", "DOD"]


def make_agency(code, *, is_lead=False, requires_two_persons=False):
    organisation = OrganisationFactory(kind=Organisation.Kind.AGENCY, name=f"Agency {code}")
    return services.create_agency(
        organisation=organisation,
        code=code,
        is_lead=is_lead,
        requires_two_persons=requires_two_persons,
        actor=system_user(),
        reason="Created by a test factory",
    )


def official(agency, role=Role.AGENCY_REVIEWER, **kwargs):
    """A person of ``agency`` with ``role`` (the save puts them in the officials' group)."""
    return UserFactory(organisation=agency.organisation, role=role, is_staff=True, **kwargs)


def document(name="end-use-statement.txt", content=b"End-use statement: defensive security operations.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


@dataclass
class World:
    """Six agencies with the default rules, officials, one vendor with its team, a model in
    limited preview and a U.S. customer outside the critical-infrastructure sectors."""

    agencies: dict
    people: dict
    vendor: object
    frontier_model: object
    partner_customer: object
    other_vendor: object = None
    extras: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.people[name]

    def agency(self, code):
        return self.agencies[code]


def build_world(*, two_persons_at_doc=False):
    agencies = {
        code: make_agency(
            code, is_lead=code == "DOC", requires_two_persons=two_persons_at_doc and code == "DOC"
        )
        for code in AGENCY_CODES
    }
    services.ensure_default_routing_rules(actor=system_user())
    vendor = VendorFactory()
    other_vendor = VendorFactory()
    people = {
        "doc_reviewer": official(agencies["DOC"], Role.AGENCY_REVIEWER),
        "doc_reviewer2": official(agencies["DOC"], Role.AGENCY_REVIEWER),
        "doc_approver": official(agencies["DOC"], Role.AGENCY_APPROVER),
        "doc_approver2": official(agencies["DOC"], Role.AGENCY_APPROVER),
        "doc_admin": official(agencies["DOC"], Role.AGENCY_ADMIN),
        "oncd_reviewer": official(agencies["ONCD"], Role.AGENCY_REVIEWER),
        "oncd_approver": official(agencies["ONCD"], Role.AGENCY_APPROVER),
        "ostp_approver": official(agencies["OSTP"], Role.AGENCY_APPROVER),
        "cisa_approver": official(agencies["CISA"], Role.AGENCY_APPROVER),
        "state_approver": official(agencies["STATE"], Role.AGENCY_APPROVER),
        "dod_approver": official(agencies["DOD"], Role.AGENCY_APPROVER),
        "vendor_admin": vendor_admin(vendor),
        "officer": vendor_officer(vendor),
        "viewer": vendor_viewer(vendor),
        "other_officer": vendor_officer(other_vendor),
        "auditor": auditor(),
        "portal_admin": portal_admin(),
    }
    frontier_model = FrontierModelFactory(
        vendor=vendor, release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
    )
    partner_customer = PartnerCustomerFactory(vendor=vendor, country="US", sector=Sector.OTHER)
    return World(
        agencies=agencies,
        people=people,
        vendor=vendor,
        frontier_model=frontier_model,
        partner_customer=partner_customer,
        other_vendor=other_vendor,
    )


def draft(world, *, actor=None, frontier_model=None, partner_customer=None, with_document=True, **fields):
    actor = actor or world["officer"]
    values = {
        "use_case": "Triage of intrusion alerts in the customer's security operations centre.",
        "scope": "200 analyst seats; U.S. region only; no customer data leaves the tenant.",
        "requested_duration_days": 365,
    }
    values.update(fields)
    access_request = services.create_draft_request(
        actor=actor,
        frontier_model=frontier_model or world.frontier_model,
        partner_customer=partner_customer or world.partner_customer,
        **values,
    )
    if with_document:
        services.attach_request_document(access_request=access_request, actor=actor, uploaded_file=document())
    return refresh(access_request)


def submitted(world, **kwargs):
    access_request = draft(world, **kwargs)
    return refresh(services.submit_request(access_request=access_request, actor=world["officer"]))


def new_customer(world, **kwargs):
    kwargs.setdefault("sector", Sector.OTHER)
    kwargs.setdefault("country", "US")
    return PartnerCustomerFactory(vendor=world.vendor, **kwargs)


def referral(access_request, code):
    return access_request.referrals.get(agency__code=code)


def sign(world, access_request, code, stance="concur", *, rationale="", conditions=()):
    """The agency's approver drafts and signs its position."""
    approver = world[f"{code.lower()}_approver"]
    services.draft_position(
        referral=referral(access_request, code),
        actor=approver,
        stance=stance,
        rationale=rationale,
        conditions=conditions,
    )
    return services.sign_position(referral=referral(access_request, code), actor=approver)


def all_concur(world, access_request, **kwargs):
    for ref in access_request.referrals.select_related("agency"):
        sign(world, access_request, ref.agency.code, **kwargs)
    return refresh(access_request)


def refresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def lead():
    return Agency.objects.get(is_lead=True)
