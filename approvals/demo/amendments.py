"""Amendments in the demo world, built through the services as Aurora's compliance officer.

Called by ``seed_demo`` after ``seed_enforcement``. It adds:

- Keystone Data Services LLC, a U.S. customer outside the critical-infrastructure sectors, with a
  request for Aurora Atlas 2.0 submitted eight days ago (DOC, ONCD, OSTP); two days ago Aurora
  amended its sector to energy, so CISA was referred (and mailed) with a clock from that day;
- Great Lakes Grid Operations LLC's intended use amended after its approval: its active grant is
  "facts changed since approval" on DOC's dashboard, for DOC's approver to confirm or act on.

Safe to run twice: once Aurora has an amendment, nothing more is created.
"""

from django.db import transaction

from approvals import services
from approvals.demo.requests import _DemoRequests, _travel
from approvals.models import AccessRequest, Amendment, Grant
from vendors import services as vendor_services
from vendors.choices import Sector
from vendors.models import FrontierModel, PartnerCustomer, Vendor, normalise_name

KEYSTONE = "Keystone Data Services LLC"


def seed_amendments(organisations=None):
    aurora = Vendor.objects.filter(organisation__name="Aurora Labs").first()
    demo = _DemoRequests()
    officer = demo.person("officer@aurora.example")
    if aurora is None or officer is None or Amendment.objects.filter(vendor=aurora).exists():
        return
    atlas = FrontierModel.objects.filter(
        vendor=aurora, release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
    ).first()
    if atlas is None:
        return
    with transaction.atomic():
        _keystone(demo, aurora, atlas, officer)
        _great_lakes(demo, aurora, officer)


def _keystone(demo, aurora, atlas, officer):
    customer = PartnerCustomer.objects.filter(vendor=aurora, normalised_name=normalise_name(KEYSTONE)).first()
    if customer is None:
        with _travel(9):
            customer = vendor_services.register_partner_customer(
                vendor=aurora,
                actor=officer,
                attestation=True,
                legal_name=KEYSTONE,
                country="US",
                sector=Sector.OTHER,
                registration_id="US-REG-0901",
                intended_use="Log analytics for the customer's retail and logistics clients.",
                ownership="Privately held; no government ownership.",
                security_contact_name="Security Operations Lead",
                security_contact_email="soc@keystone.example",
            )
    if AccessRequest.objects.filter(partner_customer=customer).exists():
        return
    with _travel(8):
        demo.submit(
            officer,
            atlas,
            customer,
            use_case="Analysts use Atlas to summarise security telemetry and draft incident timelines.",
            scope="30 analyst seats; U.S. region only; no customer data leaves the tenant.",
        )
    with _travel(2):
        services.amend_partner_customer(
            partner_customer=customer,
            actor=officer,
            reason="Keystone signed outage-management analytics contracts with two electric utilities "
            "this month, so it now works in the energy sector.",
            sector=Sector.ENERGY,
            intended_use="Log analytics for retail and logistics clients, and outage-management analytics "
            "for two electric utilities.",
        )


def _great_lakes(demo, aurora, officer):
    customer = demo.customer(aurora, "Great Lakes Grid Operations LLC")
    if (
        customer is None
        or not Grant.objects.filter(partner_customer=customer, status=Grant.Status.ACTIVE).exists()
    ):
        return
    with _travel(1):
        services.amend_partner_customer(
            partner_customer=customer,
            actor=officer,
            reason="Great Lakes Grid acquired a natural-gas pipeline operator; its analysts will triage "
            "that network's alerts too.",
            intended_use=customer.intended_use.rstrip(".")
            + ", and the intrusion alerts of its new natural-gas pipeline subsidiary.",
        )
