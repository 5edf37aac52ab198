"""Reads for enforcement: what an action would affect, actions, incidents, reviews, oversight."""

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from approvals.models import (
    AccessRequest,
    Agency,
    EnforcementAction,
    Grant,
    IncidentReport,
    PrereleaseReview,
    Referral,
    ReviewFinding,
)
from approvals.selectors.grants import grants_visible_to
from approvals.selectors.people import vendor_compliance_team
from approvals.selectors.routing import designation_referrals
from portal import permissions
from vendors.models import FrontierModel, Vendor

LISTED_CUSTOMERS = 100


@dataclass
class Impact:
    """What an action will touch, shown on its confirmation page before it is taken."""

    grant_count: int = 0
    grants: list = field(default_factory=list)  # the first LISTED_CUSTOMERS grants, by customer name
    lapsing: list = field(default_factory=list)  # (lift) grants whose term ended meanwhile: they expire
    ended_since: int = 0  # (lift) grants the suspension took that were revoked or expired since
    requests: list = field(default_factory=list)
    referrals: list = field(default_factory=list)  # (designation) [(access_request, [agency codes])]
    agencies: list = field(default_factory=list)
    vendor_recipients: int = 0
    phase_after: str = ""
    suspension: object = None
    ids: dict = field(default_factory=dict)  # {kind: [ids]}: every record taken, sent back by the page
    ended: list = field(default_factory=list)  # (lift) the first grants counted in ``ended_since``
    vendor_team: list = field(default_factory=list)  # the vendor's people told

    @property
    def more_grants(self):
        return max(0, self.grant_count - len(self.grants))


def _grants_by_customer(queryset):
    return list(
        queryset.select_related("partner_customer", "access_request").order_by(
            "partner_customer__legal_name", "pk"
        )[:LISTED_CUSTOMERS]
    )


def _agencies_concerned(frontier_model=None, vendor=None):
    referrals = Referral.objects.all()
    if frontier_model is not None:
        referrals = referrals.filter(access_request__frontier_model=frontier_model)
    if vendor is not None:
        referrals = referrals.filter(access_request__vendor=vendor)
    return list(
        Agency.objects.filter(Q(is_lead=True) | Q(pk__in=referrals.values("agency_id")))
        .order_by("-is_lead", "code")
        .values_list("code", flat=True)
    )


def _open_requests(frontier_model, customers=None):
    requests = AccessRequest.objects.filter(
        frontier_model=frontier_model, status__in=AccessRequest.OPEN_STATUSES, on_hold=False
    )
    if customers is not None:
        requests = requests.filter(partner_customer_id__in=customers)
    return requests


def suspension_impact(frontier_model, customers=None):
    """Every active grant of the model and every open request for it (of ``customers`` only, when
    given): what a suspension takes."""
    grants = Grant.objects.filter(frontier_model=frontier_model, status=Grant.Status.ACTIVE)
    if customers is not None:
        grants = grants.filter(partner_customer_id__in=customers)
    requests = list(
        _open_requests(frontier_model, customers)
        .select_related("partner_customer")
        .order_by("tracking_number")
    )
    grant_ids = list(grants.order_by("pk").values_list("pk", flat=True))
    team = vendor_compliance_team(frontier_model.vendor)
    return Impact(
        grant_count=len(grant_ids),
        grants=_grants_by_customer(grants),
        requests=requests,
        agencies=_agencies_concerned(frontier_model=frontier_model),
        vendor_recipients=len(team),
        vendor_team=team,
        phase_after=(
            FrontierModel.ReleasePhase.SUSPENDED.label
            if customers is None
            else frontier_model.get_release_phase_display()
        ),
        ids={"grants": grant_ids, "requests": [r.pk for r in requests]},
    )


def suspension_choices(frontier_model):
    """What a suspension of chosen customers may take: ``(sectors, customers)`` — each sector with
    the number of the model's customers in it holding an active grant or an open request, and those
    customers (by name), each with their active grants and open requests counted."""
    from vendors.models import PartnerCustomer

    customers = list(
        PartnerCustomer.objects.filter(vendor_id=frontier_model.vendor_id)
        .annotate(
            active_grants=Count(
                "grants",
                filter=Q(grants__frontier_model=frontier_model, grants__status=Grant.Status.ACTIVE),
                distinct=True,
            ),
            open_requests=Count(
                "access_requests",
                filter=Q(
                    access_requests__frontier_model=frontier_model,
                    access_requests__status__in=AccessRequest.OPEN_STATUSES,
                    access_requests__on_hold=False,
                ),
                distinct=True,
            ),
        )
        .filter(Q(active_grants__gt=0) | Q(open_requests__gt=0))
        .order_by("legal_name", "pk")[:LISTED_CUSTOMERS]
    )
    sectors = {}
    for customer in customers:
        sectors.setdefault(customer.sector, [customer.get_sector_display(), 0])[1] += 1
    return sorted((value, label, n) for value, (label, n) in sectors.items()), customers


def lift_impact(frontier_model):
    """The grants a lift restores (and those that expire instead), the requests it resumes."""

    suspension = suspension_in_force(frontier_model)
    if suspension is None:
        return Impact(agencies=_agencies_concerned(frontier_model=frontier_model))
    today = timezone.localdate()
    taken = Grant.objects.filter(suspended_by=suspension)
    still = taken.filter(status=Grant.Status.SUSPENDED)
    restored = still.filter(valid_to__gte=today)
    phase = FrontierModel.ReleasePhase(suspension.phase_before or FrontierModel.ReleasePhase.LIMITED_PREVIEW)
    if not suspension.takes_whole_model:
        phase = FrontierModel.ReleasePhase(frontier_model.release_phase)
    requests = list(
        AccessRequest.objects.filter(held_by=suspension, on_hold=True)
        .select_related("partner_customer")
        .order_by("tracking_number")
    )
    lapsing = _grants_by_customer(still.filter(valid_to__lt=today))
    ended = taken.exclude(status=Grant.Status.SUSPENDED)
    team = vendor_compliance_team(frontier_model.vendor)
    return Impact(
        grant_count=restored.count(),
        grants=_grants_by_customer(restored),
        lapsing=lapsing,
        ended_since=ended.count(),
        ended=_grants_by_customer(ended),
        requests=requests,
        agencies=_agencies_concerned(frontier_model=frontier_model),
        vendor_recipients=len(team),
        vendor_team=team,
        phase_after=phase.label,
        suspension=suspension,
        ids={
            "grants": list(restored.order_by("pk").values_list("pk", flat=True)),
            "lapsing": list(still.filter(valid_to__lt=today).order_by("pk").values_list("pk", flat=True)),
            "requests": [r.pk for r in requests],
        },
    )


def designation_impact(vendor):
    """The vendor's open requests and the referrals a designation would add to each."""
    requests = list(
        AccessRequest.objects.filter(vendor=vendor, status__in=AccessRequest.OPEN_STATUSES)
        .select_related("partner_customer", "frontier_model", "vendor")
        .order_by("tracking_number")
    )
    by_request = {}
    for access_request, agency, _, _ in designation_referrals(requests):
        by_request.setdefault(access_request, []).append(agency.code)
    for access_request in requests:
        access_request.referred_to = by_request.get(access_request, [])
    team = vendor_compliance_team(vendor)
    return Impact(
        requests=requests,
        referrals=list(by_request.items()),
        agencies=_agencies_concerned(vendor=vendor),
        vendor_recipients=len(team),
        vendor_team=team,
        ids={"requests": sorted(r.pk for r in by_request)},
    )


def actions_visible_to(user):
    queryset = EnforcementAction.objects.select_related(
        "vendor", "frontier_model", "grant__access_request", "grant__partner_customer", "taken_by"
    )
    return permissions.visible_to(user, queryset)


def incidents_visible_to(user):
    queryset = IncidentReport.objects.select_related("vendor", "frontier_model", "reported_by")
    return permissions.visible_to(user, queryset).order_by("-reported_at", "-pk")


def reviews_visible_to(user):
    queryset = PrereleaseReview.objects.select_related(
        "vendor", "frontier_model", "submitted_by", "decided_by"
    )
    return permissions.visible_to(user, queryset)


def models_under_oversight(user):
    """The frontier models an official may read, with their vendors."""
    return permissions.visible_to(user, FrontierModel.objects.select_related("vendor")).order_by(
        "vendor__legal_name", "name", "version"
    )


def vendors_under_oversight(user):
    """The vendors an official knows through the models they may read."""
    if getattr(user, "sees_everything", False):
        return Vendor.objects.order_by("legal_name")
    models = permissions.visible_to(user, FrontierModel.objects.all())
    return Vendor.objects.filter(pk__in=models.values("vendor_id")).order_by("legal_name")


def designations_awaiting_answer(user):
    """Designations in force on ``user``'s vendor that it has not answered yet."""
    return list(
        actions_visible_to(user)
        .filter(
            kind=EnforcementAction.Kind.DESIGNATE_VENDOR,
            status=EnforcementAction.Status.IN_FORCE,
            responded_at__isnull=True,
        )
        .order_by("respond_by")
    )


def attestations_awaiting(user):
    """Suspensions in force that ``user`` may read with cut-off attestations still waiting, each with
    ``waiting`` (how many customers), soonest due first."""
    return list(
        actions_visible_to(user)
        .filter(
            kind=EnforcementAction.Kind.SUSPEND_MODEL,
            status=EnforcementAction.Status.IN_FORCE,
            attestations__attested_at__isnull=True,
        )
        .annotate(waiting=Count("attestations", filter=Q(attestations__attested_at__isnull=True)))
        .order_by("attest_by", "pk")
    )


def referrals_from_designation(designation):
    """The referrals ``designation`` caused that are still awaiting a signed position: those of the
    supply-chain-risk rules' agencies on the vendor's open requests, made when it was taken or
    later (a request submitted while the vendor was designated), oldest request first."""
    if designation is None:
        return []
    from approvals.selectors.routing import supply_chain_rules

    agencies = {rule.agency_id for rule in supply_chain_rules()}
    return list(
        Referral.objects.filter(
            access_request__vendor_id=designation.vendor_id,
            access_request__status__in=AccessRequest.OPEN_STATUSES,
            agency_id__in=agencies,
            referred_at__gte=designation.taken_at,
            status__in=(Referral.Status.OPEN, Referral.Status.DRAFTED),
        )
        .select_related("access_request", "agency")
        .order_by("access_request__submitted_at", "pk")
    )


def incidents_to_complete(user):
    return list(incidents_visible_to(user).filter(status=IncidentReport.Status.INITIAL).order_by("due_on"))


GRANTS_SHOWN = 50


def model_oversight(user, frontier_model, *, grant_status=""):
    """Everything the agency's model page shows: reviews and findings, grants with the incidents
    beside them, enforcement actions and open requests."""
    grants = grants_visible_to(user).filter(frontier_model=frontier_model)
    counts = dict(grants.order_by().values_list("status").annotate(n=Count("pk")))
    shown = grants.filter(status=grant_status) if grant_status else grants
    reviews = list(
        reviews_visible_to(user)
        .filter(frontier_model=frontier_model)
        .prefetch_related(
            Prefetch("findings", queryset=ReviewFinding.objects.select_related("agency", "recorded_by")),
            "evidence",
        )
    )
    return {
        "grant_counts": [(value, label, counts.get(value, 0)) for value, label in Grant.Status.choices],
        "grant_total": sum(counts.values()),
        "grants": list(shown.order_by("status", "partner_customer__legal_name", "pk")[:GRANTS_SHOWN]),
        "grant_status": grant_status,
        "incidents": list(
            incidents_visible_to(user)
            .filter(frontier_model=frontier_model)
            .prefetch_related("affected_customers")
        ),
        "reviews": reviews,
        "open_review": next((r for r in reviews if r.is_open), None),
        "actions": list(actions_visible_to(user).filter(frontier_model=frontier_model).order_by("-taken_at")),
        "open_requests": list(
            permissions.visible_to(
                user,
                AccessRequest.objects.filter(
                    frontier_model=frontier_model, status__in=AccessRequest.OPEN_STATUSES
                )
                .select_related("partner_customer")
                .order_by("tracking_number"),
            )
        ),
        "suspension": suspension_in_force(frontier_model),
    }


def vendor_model_panel(user, frontier_model):
    """The model page's enforcement part as the vendor may read it: no findings, nothing internal."""
    grants = grants_visible_to(user).filter(frontier_model=frontier_model)
    counts = dict(grants.order_by().values_list("status").annotate(n=Count("pk")))
    return {
        "reviews": list(reviews_visible_to(user).filter(frontier_model=frontier_model)),
        "actions": list(actions_visible_to(user).filter(frontier_model=frontier_model).order_by("-taken_at")),
        "incidents": list(incidents_visible_to(user).filter(frontier_model=frontier_model)),
        "grant_summary": [
            (value, label, counts[value]) for value, label in Grant.Status.choices if counts.get(value)
        ],
        "grant_total": sum(counts.values()),
        "grants": list(grants.order_by("status", "partner_customer__legal_name", "pk")[:10]),
    }


def suspension_in_force(frontier_model, *, lock=False):
    queryset = EnforcementAction.objects.filter(
        frontier_model=frontier_model,
        kind=EnforcementAction.Kind.SUSPEND_MODEL,
        status=EnforcementAction.Status.IN_FORCE,
    )
    if lock:
        queryset = queryset.select_for_update(no_key=True)
    return queryset.first()
