"""Release phases and enforcement in the demo world, built through the services as the demo users.

Called by ``seed_demo`` after ``seed_approvals``. It adds:

- Aurora Atlas 3.0 under pre-release review, with findings of DOC and ONCD;
- two more approved partner customers for Aurora Atlas 2.0 (three active grants: the one to pull
  offline in the walk-through);
- Basalt AI designated a supply-chain risk (today, as the demo vendors are registered today), its
  answer still due, its open request referred to DOD; then Basalt Granite 1.0 pulled offline
  after leaked weights: its two grants suspended, that request on hold;
- incidents of each severity: an initial critical-infrastructure report due tomorrow, a complete
  leaked-weights report, a complete lesser one;
- the expired Brightline grant with its renewal drafted.

Safe to run twice: once the demo vendors have an enforcement action or an incident, nothing
more is created.
"""

from django.db import transaction
from django.utils import timezone

from approvals import services
from approvals.demo.requests import _DemoRequests, _travel
from approvals.models import (
    AccessRequest,
    EnforcementAction,
    Grant,
    IncidentReport,
    PrereleaseReview,
    ReviewFinding,
)
from vendors import services as vendor_services
from vendors.choices import Sector
from vendors.models import FrontierModel, Vendor

REASON = "Demo world created by seed_demo."

NEW_CUSTOMERS = {
    "Aurora Labs": [
        ("Prairie Wind Cooperative", "US", Sector.ENERGY, "Wind-farm SCADA alert triage."),
        ("Bluewater Shipping Inc.", "US", Sector.TRANSPORTATION, "Port logistics security monitoring."),
    ],
    "Basalt AI": [
        ("Redwood Credit Union", "US", Sector.FINANCIAL_SERVICES, "Fraud-ring investigation support."),
        ("Mesa Freight Logistics LLC", "US", Sector.TRANSPORTATION, "Security review of dispatch software."),
    ],
}


def seed_enforcement(organisations):
    """Add the enforcement part of the demo world (only once)."""
    aurora = Vendor.objects.filter(organisation__name="Aurora Labs").first()
    basalt = Vendor.objects.filter(organisation__name="Basalt AI").first()
    if aurora is None or basalt is None:
        return
    vendors = [aurora, basalt]
    if (
        EnforcementAction.objects.filter(vendor__in=vendors).exists()
        or IncidentReport.objects.filter(vendor__in=vendors).exists()
    ):
        return
    demo = _Demo()
    if not demo.ready(aurora, basalt):
        return
    with transaction.atomic():
        demo.prerelease_review(aurora)
        demo.aurora_grants(aurora)
        demo.basalt(basalt)
        demo.incidents(aurora)
        demo.renewal(aurora)


class _Demo(_DemoRequests):
    def ready(self, aurora, basalt):
        self.atlas = FrontierModel.objects.filter(vendor=aurora, name="Aurora Atlas", version="2.0").first()
        self.atlas_next = FrontierModel.objects.filter(
            vendor=aurora, name="Aurora Atlas", version="3.0"
        ).first()
        self.granite = FrontierModel.objects.filter(
            vendor=basalt, name="Basalt Granite", version="1.0"
        ).first()
        people = [
            "officer@aurora.example",
            "compliance@aurora.example",
            "compliance@basalt.example",
            "reviewer@doc.example",
            "approver@doc.example",
            "approver@oncd.example",
        ]
        return bool(
            self.atlas
            and self.granite
            and self.atlas.release_phase == FrontierModel.ReleasePhase.LIMITED_PREVIEW
            and self.granite.release_phase == FrontierModel.ReleasePhase.LIMITED_PREVIEW
            and all(self.person(email) for email in people)
            and Grant.objects.filter(frontier_model=self.granite).exists()
        )

    @property
    def approver(self):
        return self.person("approver@doc.example")

    def new_customer(self, vendor, admin_email, spec):
        legal_name, country, sector, use = spec
        existing = self.customer(vendor, legal_name)
        if existing is not None:
            return existing
        return vendor_services.register_partner_customer(
            vendor=vendor,
            actor=self.person(admin_email),
            attestation=True,
            reason=REASON,
            legal_name=legal_name,
            country=country,
            sector=sector,
            registration_id=f"{country}-REG-9{len(legal_name):03d}",
            intended_use=use,
            security_contact_name="Security Operations Lead",
            security_contact_email=f"security@{legal_name.split()[0].lower()}.example",
        )

    def approve(self, vendor_actor, model, customer, *, days_ago):
        with _travel(days_ago):
            access_request = self.submit(
                vendor_actor,
                model,
                customer,
                use_case=customer.intended_use,
                scope="20 analyst seats; U.S. region only.",
            )
        with _travel(days_ago - 3):
            for code in ("DOC", "ONCD", "OSTP", "CISA"):
                self.sign(access_request, code)
        with _travel(days_ago - 5):
            services.record_decision(
                access_request=access_request, actor=self.approver, rationale="All concur."
            )
        return access_request

    # -- Aurora: a model under pre-release review, more grants, incidents, a renewal ------------

    def prerelease_review(self, aurora):
        """Atlas 3.0, registered by the registry's demo, is submitted for review and gets findings."""
        model = self.atlas_next
        if model is None or model.release_phase != FrontierModel.ReleasePhase.REGISTERED:
            return
        if PrereleaseReview.objects.filter(frontier_model=model).exists():
            return
        with _travel(14):
            review = services.submit_for_prerelease_review(
                frontier_model=model,
                actor=self.person("officer@aurora.example"),
                summary="Third-party cyber evaluation attached: autonomous exploitation of known CVEs in "
                "3 of 40 lab targets; refusal training and agent sandboxing reduce it to 0 of 40.",
            )
        with _travel(8):
            services.record_review_finding(
                review=review,
                actor=self.person("reviewer@doc.example"),
                text="Sandbox escape testing covered only Linux targets; ask for Windows results before GA.",
                recommendation=ReviewFinding.Recommendation.CLEAR_LIMITED_PREVIEW,
            )
        with _travel(5):
            services.record_review_finding(
                review=review,
                actor=self.person("approver@oncd.example"),
                text="Multi-day autonomous agents raise the uplift ceiling; a seat cap of 5 for the preview.",
                recommendation=ReviewFinding.Recommendation.CLEAR_LIMITED_PREVIEW,
            )

    def aurora_grants(self, aurora):
        officer = self.person("officer@aurora.example")
        for days_ago, spec in zip((30, 24), NEW_CUSTOMERS["Aurora Labs"], strict=True):
            customer = self.new_customer(aurora, "compliance@aurora.example", spec)
            if not Grant.objects.filter(partner_customer=customer).exists():
                self.approve(officer, self.atlas, customer, days_ago=days_ago)

    def incidents(self, aurora):
        officer = self.person("officer@aurora.example")
        grid = self.customer(aurora, "Great Lakes Grid Operations LLC")
        with _travel(20):
            services.report_incident(
                frontier_model=self.atlas,
                actor=officer,
                category=IncidentReport.Category.UNSAFE_BEHAVIOUR,
                severity=IncidentReport.Severity.SERIOUS,
                description="An agent run by a customer's developers deleted a staging database after a "
                "misread instruction. No production data was affected.",
                detected_on=timezone.localdate(),
                root_cause="The agent's tool permissions allowed destructive commands without confirmation.",
                remediation="Destructive tools now need a human confirmation; customers were told.",
            )
        with _travel(1):
            services.report_incident(
                frontier_model=self.atlas,
                actor=officer,
                category=IncidentReport.Category.MISUSE_CRITICAL_INFRASTRUCTURE,
                severity=IncidentReport.Severity.CRITICAL_INFRASTRUCTURE,
                description="A compromised analyst account at a grid operator used Atlas to draft commands "
                "against a substation controller. The operator's change control blocked them. "
                "Investigation continues; this is the initial report.",
                detected_on=timezone.localdate(),
                affected_customers=[grid] if grid else [],
            )

    def renewal(self, aurora):
        brightline = self.customer(aurora, "Brightline Software Inc.")
        grant = Grant.objects.filter(partner_customer=brightline, status=Grant.Status.EXPIRED).first()
        if grant is None or AccessRequest.objects.filter(renewal_of=grant).exists():
            return
        services.request_grant_renewal(grant=grant, actor=self.person("officer@aurora.example"))

    # -- Basalt: designated, its model pulled offline ------------------------------------------

    def basalt(self, basalt):
        admin = self.person("compliance@basalt.example")
        redwood_spec, mesa_spec = NEW_CUSTOMERS["Basalt AI"]
        redwood = self.new_customer(basalt, "compliance@basalt.example", redwood_spec)
        if not Grant.objects.filter(partner_customer=redwood).exists():
            self.approve(admin, self.granite, redwood, days_ago=28)
        mesa = self.new_customer(basalt, "compliance@basalt.example", mesa_spec)
        if not AccessRequest.objects.filter(partner_customer=mesa).exists():
            with _travel(12):
                open_request = self.submit(
                    admin,
                    self.granite,
                    mesa,
                    use_case=mesa.intended_use,
                    scope="6 seats; U.S. only.",
                )
            with _travel(11):
                self.sign(open_request, "ONCD")
        # today: the vendor and its models were registered today in the demo world
        services.designate_supply_chain_risk(
            vendor=basalt,
            actor=self.approver,
            legal_basis="Executive Order on Securing the Frontier AI Supply Chain, section 3(c); "
            "15 CFR part 7 (securing the information and communications technology supply chain).",
            findings="Basalt AI's training cluster is operated by a subcontractor under the control of a "
            "foreign adversary; model weights and customer prompts transit its network without "
            "end-to-end encryption. Basalt did not disclose the subcontractor in its registration.",
        )
        with _travel(6):
            incident = services.report_incident(
                frontier_model=self.granite,
                actor=admin,
                category=IncidentReport.Category.LEAKED_WEIGHTS,
                severity=IncidentReport.Severity.SECURITY_BREACH,
                description="A copy of Granite 1.0's weights was found on a public file-sharing site.",
                detected_on=timezone.localdate(),
            )
        with _travel(4):
            services.complete_incident_report(
                incident=incident,
                actor=admin,
                root_cause="A subcontractor's storage bucket was left publicly readable for 36 hours.",
                remediation="Bucket closed, keys rotated, subcontractor access revoked, takedowns sent.",
            )
        suspension = services.suspend_model(
            frontier_model=self.granite,
            actor=self.approver,
            legal_basis="Executive Order on Safe, Secure, and Trustworthy Frontier AI, section 4.2(b): "
            "mandate to suspend preview access after a loss of control of model weights.",
            findings="Granite 1.0's weights leaked (incident report of the vendor); until the vendor "
            "shows that access controls are restored, no partner customer may use the model.",
        )
        services.follow_through_suspension(suspension.pk)  # (at once, even inside a transaction)
