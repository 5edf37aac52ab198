"""The world the route walk runs in: vendor B owns one record of every kind; vendor A's admin and
an official of an agency none of B's requests is referred to (CISA) walk every address.

Built through the services (as people would have produced it), once per test module.
"""

import csv
import io
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from api import services as api_services
from approvals import services
from approvals.tests.enforcement_helpers import BASIS
from approvals.tests.factories import all_concur, build_world, document, draft, refresh, submitted
from portal.accounts.models import SignInEvent
from portal.notifications.models import Notification
from vendors import services as vendor_services
from vendors.models import FrontierModel
from vendors.onboarding.services import decide_name_change, submit_application
from vendors.tests.factories import (
    EvidenceDocumentFactory,
    FrontierModelFactory,
    PartnerCustomerFactory,
    vendor_admin,
)


@dataclass
class WalkWorld:
    """``b`` holds B's records by name; ``hidden`` lists the names an outsider must never reach."""

    b: dict
    vendor_outsider: object
    agency_outsider: object
    owners: dict
    strings: dict = field(default_factory=dict)
    # the factories' world B was built in (its agencies and people), for tests that add to it
    factory_world: object = None

    def __getattr__(self, name):
        try:
            return self.b[name]
        except KeyError:
            raise AttributeError(name) from None


def _customers_csv():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "legal_name",
            "country",
            "sector",
            "registration_id",
            "intended_use",
            "security_contact_name",
            "security_contact_email",
            "attestation",
        ]
    )
    writer.writerow(
        [
            "Quarry Import Walkco",
            "US",
            "other",
            "REG-WALK-1",
            "Alert triage.",
            "Sam Lead",
            "sam@quarry-walk.example",
            "yes",
        ]
    )
    return SimpleUploadedFile("walk-customers.csv", out.getvalue().encode(), content_type="text/csv")


def build_walk_world():
    world = build_world()
    vendor_b = world.vendor
    officer = world["officer"]
    admin_b = world["vendor_admin"]
    vendor_services.update_vendor_profile(
        vendor=vendor_b, actor=admin_b, reason="A name the walk looks for", legal_name="Basalt Walkway Inc."
    )
    decide_name_change(  # a new legal name takes effect when a portal administrator approves (issue 13)
        change=vendor_b.name_changes.get(), actor=world["portal_admin"], approve=True, reason="Walk."
    )
    vendor_b = refresh(vendor_b)

    # The model in limited preview with requests, and its customer; both with evidence.
    m1 = FrontierModelFactory(
        vendor=vendor_b, name="Obsidian Walkabout", release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
    )
    c1 = PartnerCustomerFactory(vendor=vendor_b, legal_name="Quarry Walkers Corporation", sector="other")
    m1_evidence = EvidenceDocumentFactory(vendor=vendor_b, frontier_model=m1, title="Walkabout model card")
    c1_evidence = EvidenceDocumentFactory(
        vendor=vendor_b, frontier_model=None, partner_customer=c1, title="Quarry walkers attestation"
    )

    # A draft (addressed by id) and a request taken through a question to approval and a grant.
    draft_request = draft(world, frontier_model=m1, partner_customer=c1, use_case="Draft walk use case.")
    access_request = submitted(world, frontier_model=m1, partner_customer=c1)
    question = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Which walk regions?"
    )
    services.answer_information_request(
        information_request=question, actor=officer, answer="U.S. only.", documents=[document()]
    )
    access_request = all_concur(world, refresh(access_request))
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    access_request = refresh(access_request)
    grant = access_request.grant

    # A second model through pre-release review, an incident and a suspension: records every
    # agency reads by design (DESIGN.md: enforcement and incidents are seen by all agencies).
    m2 = FrontierModelFactory(vendor=vendor_b, name="Basanite Walkover")
    m2_evidence = EvidenceDocumentFactory(vendor=vendor_b, frontier_model=m2, title="Basanite red-team")
    services.submit_for_prerelease_review(frontier_model=m2, actor=officer, summary="Ready for review.")
    review = m2.prerelease_reviews.get()
    incident = services.report_incident(
        frontier_model=m2,
        actor=officer,
        category="leaked_weights",
        severity="security_breach",
        description="Walkover weights found on a file-sharing site.",
        detected_on=timezone.localdate(),
    )
    action = services.suspend_model(frontier_model=m2, actor=world["doc_approver"], **BASIS)
    services.follow_through_suspension(action.pk)

    customer_import = vendor_services.preview_customer_import(
        vendor=vendor_b, uploaded_file=_customers_csv(), actor=admin_b
    )
    job = vendor_services.start_customer_import_job(customer_import=customer_import, actor=admin_b)
    notification = Notification.objects.filter(recipient__organisation=vendor_b.organisation).latest("pk")
    sign_in = SignInEvent.objects.create(
        user=officer, email=officer.email, outcome=SignInEvent.Outcome.SIGNED_IN, ip_address="192.0.2.7"
    )

    # An agency's own staffing change (issue 13): DOC's, so the CISA outsider must not reach it.
    staffing_change = services.propose_two_person_rule(
        agency=world.agency("DOC"), requires_two_persons=True, actor=world["doc_admin"], reason="Walk."
    )

    # Onboarding (issue 13): B's pending change of legal name, and an application (operator data).
    vendor_services.update_vendor_profile(
        vendor=vendor_b, actor=admin_b, legal_name="Walk Renamed Vendor", reason="Walk."
    )
    name_change = vendor_b.name_changes.get(status="pending")
    application = submit_application(
        legal_name="Walk Applicant Co",
        country="US",
        identifiers="UEI WALK",
        address="1 Walk Street",
        admin_name="Walk Applicant",
        admin_email="applicant@walk.example",
        attestation=True,
    )

    # The vendor API: a token, a webhook endpoint and one event waiting for it.
    api_token, _ = api_services.create_api_token(
        vendor=vendor_b, actor=admin_b, name="Walk token", scope="read", expires_in_days=30
    )
    endpoint = api_services.register_webhook_endpoint(
        vendor=vendor_b, actor=admin_b, url="https://hooks.walk.example/x"
    )
    api_services.record_webhook_event(
        vendor=vendor_b, event_type="grant.created", event_id="evt_walk", data={}
    )

    b = {
        "vendor": vendor_b,
        "organisation": vendor_b.organisation,
        "admin": admin_b,
        "officer": officer,
        "m1": m1,
        "m2": m2,
        "c1": c1,
        "m1_evidence": m1_evidence,
        "c1_evidence": c1_evidence,
        "m2_evidence": m2_evidence,
        "draft": draft_request,
        "draft_document": draft_request.documents.get(),
        "request": access_request,
        "request_document": access_request.documents.order_by("pk").first(),
        "question": question,
        "referral": access_request.referrals.get(agency__code="DOC"),
        "grant": grant,
        "review": review,
        "incident": incident,
        "action": action,
        "letter": access_request.decision.letter,
        "notice": action.letter,
        "customer_import": customer_import,
        "job": job,
        "notification": notification,
        "sign_in": sign_in,
        "staffing_change": staffing_change,
        "name_change": name_change,
        "application": application,
        "api_token": api_token,
        "webhook_endpoint": endpoint,
        "webhook_delivery": endpoint.deliveries.get(),
    }
    # Words that name B's records. An outsider's page must not contain any of them; the agency
    # outsider may read the strings of the records every agency reads by design.
    strings = {
        "vendor": vendor_b.legal_name,
        "m1": m1.name,
        "m2": m2.name,
        "c1": c1.legal_name,
        "m1_evidence": m1_evidence.title,
        "c1_evidence": c1_evidence.title,
        "request": access_request.tracking_number,
        "draft": "Draft walk use case.",
        "question": "Which walk regions?",
        "admin": admin_b.email,
        "officer": officer.email,
        "customer_import": "walk-customers.csv",
        "job": "Import of walk-customers.csv",
        "api_token": "Walk token",
        "webhook_endpoint": "hooks.walk.example",
    }
    return WalkWorld(
        b=b,
        vendor_outsider=vendor_admin(world.other_vendor),
        agency_outsider=world["cisa_approver"],
        owners={
            "vendor": admin_b,
            "reviewer": world["doc_reviewer"],
            "approver": world["doc_approver"],
            "auditor": world["auditor"],
        },
        strings=strings,
        factory_world=world,
    )
