"""The review process's part of the demo world: agencies, routing rules and requests in
every lifecycle state across both vendors, built by calling the services as the demo users.

Requests are dated in the past (when ``time_machine`` is installed, as it is by
``scripts/serve``) so that clocks show real urgency: one referral due in four days, one
overdue, a grant that has expired. Safe to run twice: once the demo vendors have requests,
nothing more is created.
"""

import contextlib
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from approvals import services
from approvals.demo.staffing import seed_staffing
from approvals.models import AccessRequest, Agency, Referral
from portal.accounts.models import User
from portal.accounts.services import system_user
from vendors.models import FrontierModel, PartnerCustomer, Vendor, normalise_name

REASON = "Demo world created by seed_demo."

# code, organisation name, lead, two persons
AGENCIES = [
    ("DOC", "Department of Commerce", True, True),
    ("ONCD", "Office of the National Cyber Director", False, False),
    ("OSTP", "Office of Science and Technology Policy", False, False),
    ("CISA", "Cybersecurity and Infrastructure Security Agency", False, False),
    ("STATE", "Department of State", False, False),
    ("DOD", "Department of Defense", False, False),
]


def seed_approvals(organisations):
    """Create agencies, routing rules and requests in every state (each only if missing)."""
    actor = system_user()
    for code, name, is_lead, two_persons in AGENCIES:
        organisation = organisations.get(name)
        if organisation is None or Agency.objects.filter(code=code).exists():
            continue
        services.create_agency(
            organisation=organisation,
            code=code,
            name=name,
            is_lead=is_lead,
            requires_two_persons=two_persons,
            actor=actor,
            reason=REASON,
        )
    services.ensure_default_routing_rules(actor=actor, reason=REASON)
    for user in User.objects.filter(organisation__agency__isnull=False):
        services.sync_official_groups(user)
    from approvals.demo.releases import seed_release_phases  # it imports this module's _travel

    seed_release_phases()
    _DemoRequests().seed()
    seed_staffing()


def _travel(days_ago):
    """Run the next steps as if ``days_ago`` days had passed since (no-op without time_machine)."""
    try:
        import time_machine
    except ImportError:  # production images do not ship the test tools
        return contextlib.nullcontext()
    return time_machine.travel(timezone.localtime() - timedelta(days=days_ago), tick=True)


def _document(title, body):
    slug = normalise_name(title).replace(" ", "-") or "document"
    return SimpleUploadedFile(f"{slug}.txt", f"{title}\n\n{body}\n".encode(), content_type="text/plain")


class _DemoRequests:
    def __init__(self):
        self.people = {u.email: u for u in User.objects.filter(email__endswith=".example")}

    def person(self, email):
        return self.people.get(email)

    def seed(self):
        aurora = Vendor.objects.filter(organisation__name="Aurora Labs").first()
        basalt = Vendor.objects.filter(organisation__name="Basalt AI").first()
        if aurora is None or basalt is None or not Agency.objects.filter(is_lead=True).exists():
            return
        if AccessRequest.objects.filter(vendor__in=[aurora, basalt]).exists():
            return
        needed = [
            "officer@aurora.example",
            "compliance@basalt.example",
            "reviewer@doc.example",
            "approver@doc.example",
            "approver@oncd.example",
            "approver@ostp.example",
            "approver@cisa.example",
        ]
        if any(self.person(email) is None for email in needed):
            return
        atlas = FrontierModel.objects.filter(
            vendor=aurora, release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
        ).first()
        granite = FrontierModel.objects.filter(
            vendor=basalt, release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
        ).first()
        if atlas is None or granite is None:
            return
        with transaction.atomic():
            self.aurora(aurora, atlas)
            self.basalt(basalt, granite)
        services.expire_lapsed_grants()

    # -- helpers -----------------------------------------------------------------------------

    def customer(self, vendor, name):
        return PartnerCustomer.objects.filter(vendor=vendor, normalised_name=normalise_name(name)).first()

    def file(self, vendor_actor, model, customer, *, use_case, scope, days=365, attach=True):
        documents = [(_document(f"End-use statement — {customer.legal_name}", use_case), "End-use statement")]
        return services.create_draft_request(
            actor=vendor_actor,
            frontier_model=model,
            partner_customer=customer,
            use_case=use_case,
            scope=scope,
            requested_duration_days=days,
            documents=documents if attach else (),
        )

    def submit(self, vendor_actor, model, customer, **kwargs):
        access_request = self.file(vendor_actor, model, customer, **kwargs)
        return services.submit_request(access_request=access_request, actor=vendor_actor)

    def referral(self, access_request, code):
        return Referral.objects.get(access_request=access_request, agency__code=code)

    def sign(self, access_request, code, stance="concur", *, rationale="", conditions=(), drafter=None):
        """The agency's position: DOC's reviewer drafts and its approver signs (two persons);
        elsewhere the approver does both."""
        approver = self.person(f"approver@{code.lower()}.example")
        referral = self.referral(access_request, code)
        if code == "DOC":
            drafter = drafter or self.person("reviewer@doc.example")
            if not referral.assigned_officials.filter(pk=drafter.pk).exists():
                services.assign_officials(referral=referral, actor=drafter, officials=[drafter])
        services.draft_position(
            referral=referral,
            actor=drafter or approver,
            stance=stance,
            rationale=rationale,
            conditions=conditions,
        )
        return services.sign_position(referral=referral, actor=approver)

    # -- Aurora Labs ---------------------------------------------------------------------------

    def aurora(self, vendor, atlas):
        officer = self.person("officer@aurora.example")
        reviewer = self.person("reviewer@doc.example")
        doc_approver = self.person("approver@doc.example")

        # Approved with conditions from DOC and ONCD, after an answered question: active grant.
        customer = self.customer(vendor, "Great Lakes Grid Operations LLC")
        if customer is not None:
            with _travel(60):
                grid = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Grid operators use Atlas to triage SCADA intrusion alerts and draft incident "
                    "reports for NERC CIP reporting.",
                    scope="120 analyst seats in the security operations centre; U.S. region only; "
                    "no operational-technology write access.",
                )
            with _travel(57):
                services.assign_officials(
                    referral=self.referral(grid, "DOC"), actor=reviewer, officials=[reviewer]
                )
                question = services.issue_information_request(
                    access_request=grid,
                    actor=reviewer,
                    question="Will any model output be fed automatically into control-system commands? "
                    "Describe the human review step.",
                )
            with _travel(52):
                services.answer_information_request(
                    information_request=question,
                    actor=officer,
                    answer="No. Outputs are advisory only and go to a ticket queue; a certified operator "
                    "reviews every recommendation before any change. The control network is air-gapped "
                    "from the tenant.",
                    documents=[_document("Grid human-review procedure", "Every recommendation is reviewed.")],
                )
            with _travel(40):
                self.sign(
                    grid,
                    "DOC",
                    "concur_with_conditions",
                    conditions=[
                        {"kind": "logging", "text": "Keep prompt and output logs for 12 months for review"}
                    ],
                )
                self.sign(
                    grid,
                    "ONCD",
                    "concur_with_conditions",
                    conditions=[
                        {"kind": "seat_cap", "text": "At most 120 seats", "seat_cap": 120},
                        {"kind": "us_data_residency", "text": "Customer data stays in U.S. data centres"},
                    ],
                )
                self.sign(grid, "OSTP")
                self.sign(grid, "CISA")
            with _travel(35):
                services.record_decision(
                    access_request=grid,
                    actor=doc_approver,
                    rationale="Every agency concurs; the conditions of DOC and ONCD apply.",
                )

        # Approved more than a year ago: its grant has expired.
        customer = self.customer(vendor, "Brightline Software Inc.")
        if customer is not None:
            with _travel(420):
                old = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Secure code review assistant for the customer's developers.",
                    scope="40 developer seats; no production data.",
                )
            with _travel(410):
                for code in ("DOC", "ONCD", "OSTP"):
                    self.sign(old, code)
            with _travel(400):
                services.record_decision(access_request=old, actor=doc_approver, rationale="All concur.")

        # In review: ONCD signed, CISA drafting, due in four days.
        customer = self.customer(vendor, "Meridian Community Health System")
        if customer is not None:
            with _travel(26):
                health = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Summarise phishing reports and suspicious e-mail for the security team.",
                    scope="15 analyst seats; no patient data in prompts.",
                )
            with _travel(20):
                services.assign_officials(
                    referral=self.referral(health, "DOC"), actor=reviewer, officials=[reviewer]
                )
                self.sign(health, "ONCD")
                services.draft_position(
                    referral=self.referral(health, "CISA"),
                    actor=self.person("approver@cisa.example"),
                    stance="concur_with_conditions",
                    conditions=[{"kind": "text", "text": "Quarterly report of blocked misuse attempts"}],
                )
                services.add_internal_note(
                    access_request=health,
                    actor=reviewer,
                    body="Check HHS guidance on PHI before drafting; no patient data in prompts, they say.",
                )

        # Information requested: DOC's question is open, clocks stopped.
        customer = self.customer(vendor, "Northwind Water Authority")
        if customer is not None:
            with _travel(12):
                water = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Analyse water-treatment plant logs for signs of intrusion.",
                    scope="10 seats; logs exported nightly; U.S. only.",
                )
            with _travel(3):
                services.issue_information_request(
                    access_request=water,
                    actor=reviewer,
                    question="Which plant systems produce the logs, and who can see the model's findings?",
                )

        # Escalated: ONCD does not concur.
        customer = self.customer(vendor, "Sentinel Defense Systems Corp.")
        if customer is not None:
            with _travel(40):
                sentinel = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Red-team support for a defense contractor's own networks.",
                    scope="25 seats; exploit development features enabled.",
                )
            with _travel(15):
                self.sign(
                    sentinel,
                    "DOC",
                    "concur_with_conditions",
                    conditions=[{"kind": "no_fine_tuning", "text": ""}],
                )
                self.sign(
                    sentinel,
                    "ONCD",
                    "non_concur",
                    rationale="Exploit development for a third party exceeds what the preview allows; "
                    "the customer's isolation controls are not evidenced.",
                )
                self.sign(sentinel, "OSTP")
                self.sign(sentinel, "CISA")

        # Overdue: Department of State has not answered for a Canadian customer.
        customer = self.customer(vendor, "Maple Leaf Telecom Ltd.")
        if customer is not None:
            with _travel(35):
                telecom = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Detect SIM-swap fraud patterns in call-centre transcripts.",
                    scope="30 seats; Canadian data stays in Canada.",
                )
            with _travel(25):
                for code in ("DOC", "ONCD", "OSTP", "CISA"):
                    self.sign(telecom, code)

        # Withdrawn by the vendor.
        customer = self.customer(vendor, "Thames Analytics plc")
        if customer is not None:
            with _travel(20):
                thames = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Financial-crime analytics for UK banks.",
                    scope="50 seats.",
                )
            with _travel(15):
                services.withdraw_request(
                    access_request=thames,
                    actor=officer,
                    reason="The customer postponed the project to next year.",
                )

        # Returned as incomplete by DOC: the vendor fixes it and resubmits under the same number.
        customer = self.customer(vendor, "Sakura Robotics K.K.")
        if customer is not None:
            with _travel(14):
                sakura = self.submit(
                    officer,
                    atlas,
                    customer,
                    use_case="Code review of robot-controller firmware.",
                    scope="15 seats.",
                )
            with _travel(9):
                services.return_incomplete(
                    access_request=sakura,
                    actor=doc_approver,
                    reason="The scope does not say where the firmware source is processed. State the region "
                    "(Japan or the United States) and attach the customer's data-handling statement, then "
                    "resubmit.",
                )

        # Submitted today, nothing done yet.
        customer = self.customer(vendor, "Cascade Rail Logistics Inc.")
        if customer is not None:
            self.submit(
                officer,
                atlas,
                customer,
                use_case="Triage of security alerts from rail signalling maintenance laptops.",
                scope="8 seats; U.S. only.",
                days=180,
            )

        # A draft that the completeness check still refuses (customer not attested).
        customer = self.customer(vendor, "Harbor Federal Credit Union")
        if customer is not None:
            self.file(
                officer,
                atlas,
                customer,
                use_case="Fraud-investigation assistant.",
                scope="",
                attach=False,
            )

    # -- Basalt AI -----------------------------------------------------------------------------

    def basalt(self, vendor, granite):
        admin = self.person("compliance@basalt.example")
        reviewer = self.person("reviewer@doc.example")
        doc_approver = self.person("approver@doc.example")

        # Denied: escalation, intent to deny, response, final denial.
        customer = self.customer(vendor, "Pioneer Chemical Co.")
        if customer is not None:
            with _travel(80):
                chemical = self.submit(
                    admin,
                    granite,
                    customer,
                    use_case="Reverse-engineer malware samples found on plant engineering workstations.",
                    scope="5 seats; malware analysis features enabled.",
                )
            with _travel(60):
                self.sign(chemical, "DOC")
                self.sign(
                    chemical,
                    "ONCD",
                    "non_concur",
                    rationale="Malware analysis at this capability level for one chemical plant operator, "
                    "without a dedicated security team, risks misuse.",
                )
                self.sign(chemical, "OSTP")
                self.sign(chemical, "CISA")
            with _travel(50):
                services.resolve_escalation(
                    access_request=chemical,
                    actor=doc_approver,
                    outcome="intent_to_deny",
                    rationale="The customer has no dedicated security team to supervise malware analysis.",
                )
            with _travel(45):
                services.respond_to_intent_to_deny(
                    access_request=chemical,
                    actor=admin,
                    response="The customer will contract a managed security provider within six months.",
                )
            with _travel(40):
                services.finalise_denial(
                    access_request=chemical,
                    actor=doc_approver,
                    rationale="A future contract is not a control in place. The customer may file again once "
                    "the managed security provider is engaged.",
                )

        # Returned without action: a question went unanswered.
        customer = self.customer(vendor, "Lakeside County Emergency Services")
        if customer is not None:
            with _travel(50):
                lakeside = self.submit(
                    admin,
                    granite,
                    customer,
                    use_case="Triage of 911 dispatch system alerts.",
                    scope="4 seats.",
                )
            with _travel(45):
                services.issue_information_request(
                    access_request=lakeside,
                    actor=reviewer,
                    question="Is the dispatch system's vendor aware of and party to this use?",
                )
            with _travel(30):
                services.return_lapsed_requests()

        # Approved without conditions.
        customer = self.customer(vendor, "Atlas Payments Inc.")
        if customer is not None:
            with _travel(30):
                payments = self.submit(
                    admin,
                    granite,
                    customer,
                    use_case="Investigate card-fraud rings from transaction logs.",
                    scope="12 seats; no cardholder data in prompts.",
                    days=180,
                )
            with _travel(20):
                for code in ("DOC", "ONCD", "OSTP", "CISA"):
                    self.sign(payments, code)
            with _travel(18):
                services.record_decision(access_request=payments, actor=doc_approver)

        # A draft ready to submit.
        customer = self.customer(vendor, "Orion Research Institute")
        if customer is not None:
            self.file(
                admin,
                granite,
                customer,
                use_case="Evaluate the model's resistance to jailbreaks for an academic study.",
                scope="3 researcher seats.",
                days=90,
            )
