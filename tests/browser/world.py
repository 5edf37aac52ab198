"""The starting world of the review journeys, built with the apps' factories (through services).

Three agencies with the default routing rules (DOC the lead, ONCD, OSTP), a reviewer at DOC and
an approver at each; Aurora Labs with its compliance admin and officer, a model in limited
preview and a U.S. customer outside the critical-infrastructure sectors (so the request goes to
exactly DOC, ONCD and OSTP); Basalt AI with its compliance admin, the outsider of journey 5.
"""

from dataclasses import dataclass

from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from approvals.tests.factories import official
from portal.accounts.models import Organisation, Role
from portal.accounts.services import system_user
from portal.tests.factories import OrganisationFactory
from vendors.choices import Sector
from vendors.models import FrontierModel
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory, VendorFactory, member_of

AGENCIES = {
    "DOC": ("Department of Commerce", "Jordan Lee"),
    "ONCD": ("Office of the National Cyber Director", "Sam Ortiz"),
    "OSTP": ("Office of Science and Technology Policy", "Kai Morgan"),
}


def agency(code, name):
    organisation = OrganisationFactory(kind=Organisation.Kind.AGENCY, name=name)
    return services.create_agency(
        organisation=organisation,
        code=code,
        name=name,
        is_lead=code == "DOC",
        actor=system_user(),
        reason="Starting world of a browser journey",
    )


@dataclass
class ReviewWorld:
    vendor: object
    admin: object
    officer: object
    outsider: object
    frontier_model: object
    partner_customer: object
    reviewer: object
    approvers: dict


def review_world():
    agencies = {code: agency(code, name) for code, (name, _) in AGENCIES.items()}
    services.ensure_default_routing_rules(actor=system_user())
    vendor = VendorFactory(legal_name="Aurora Labs Inc.", organisation__name="Aurora Labs")
    other = VendorFactory(legal_name="Basalt AI Inc.", organisation__name="Basalt AI")
    return ReviewWorld(
        vendor=vendor,
        admin=member_of(vendor, Role.VENDOR_ADMIN, full_name="Ada Admin", email="compliance@aurora.example"),
        officer=member_of(
            vendor, Role.VENDOR_OFFICER, full_name="Oscar Officer", email="officer@aurora.example"
        ),
        outsider=member_of(
            other, Role.VENDOR_ADMIN, full_name="Bea Basalt", email="compliance@basalt.example"
        ),
        frontier_model=FrontierModelFactory(
            vendor=vendor,
            name="Aurora Atlas",
            version="2.0",
            release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW,
        ),
        partner_customer=PartnerCustomerFactory(
            vendor=vendor, legal_name="Example Grid Operations LLC", country="US", sector=Sector.OTHER
        ),
        reviewer=official(
            agencies["DOC"], Role.AGENCY_REVIEWER, full_name="Riley Reviewer", email="reviewer@doc.example"
        ),
        approvers={
            code: official(
                agencies[code], Role.AGENCY_APPROVER, full_name=name, email=f"approver@{code.lower()}.example"
            )
            for code, (_, name) in AGENCIES.items()
        },
    )


def submitted_request(world, partner_customer):
    """An access request filed by Aurora's officer through the services, in review."""
    return services.submit_request(
        access_request=services.create_draft_request(
            actor=world.officer,
            frontier_model=world.frontier_model,
            partner_customer=partner_customer,
            use_case="Triage of intrusion alerts in the security operations centre.",
            scope="200 analyst seats; U.S. region only.",
            requested_duration_days=365,
            documents=[
                (SimpleUploadedFile("end-use.txt", b"End-use statement.\n", content_type="text/plain"), "")
            ],
        ),
        actor=world.officer,
    )


def approved_request(world, partner_customer):
    """An access request filed, signed by every agency and approved, through the services: the
    starting world of journey 4 holds grants."""
    access_request = submitted_request(world, partner_customer)
    for referral in access_request.referrals.select_related("agency"):
        approver = world.approvers[referral.agency.code]
        services.draft_position(
            referral=referral, actor=approver, stance="concur", rationale="", conditions=()
        )
        services.sign_position(referral=referral, actor=approver)
    services.record_decision(access_request=access_request, actor=world.approvers["DOC"])
    return access_request
