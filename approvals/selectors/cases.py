"""Reads of a case for the agency side: queues, positions, notes, evidence, the audit scopes."""

from django.db.models import F, Q

from approvals.models import (
    AccessRequest,
    Agency,
    Condition,
    CutoffAttestation,
    Decision,
    EnforcementAction,
    Escalation,
    Grant,
    IntentToDeny,
    InternalNote,
    Position,
    Referral,
    RequestDocument,
    RoutingRule,
)
from approvals.policies import agency_of
from approvals.selectors.requests import requests_visible_to
from portal import permissions


def referral_queue(user, *, assigned_to_me=False):
    """The referrals ``user``'s agency still has to answer, most urgent clock first."""
    agency = agency_of(user)
    if agency is None:
        return Referral.objects.none()
    queryset = permissions.visible_to(
        user,
        Referral.objects.filter(
            agency=agency,
            status__in=(Referral.Status.OPEN, Referral.Status.DRAFTED),
            access_request__status__in=(
                AccessRequest.Status.SUBMITTED,
                AccessRequest.Status.IN_REVIEW,
                AccessRequest.Status.INFO_REQUESTED,
            ),
        )
        .select_related(
            "agency",
            "access_request__vendor",
            "access_request__partner_customer",
            "access_request__frontier_model",
        )
        .prefetch_related("assigned_officials"),
    )
    if assigned_to_me:
        queryset = queryset.filter(assigned_officials=user)
    # running clocks first (a stopped clock cannot run out), then the nearest due date
    return queryset.order_by(F("clock_stopped_at").asc(nulls_first=True), "due_date", "pk")


def positions_visible_to(user, access_request):
    """Own agency's position in any state; other agencies' once signed; auditors everything."""
    queryset = (
        Position.objects.filter(referral__access_request=access_request)
        .select_related("referral__agency", "drafted_by", "signed_by")
        .prefetch_related("conditions")
        .order_by("referral__agency__code")
    )
    if getattr(user, "sees_everything", False):
        return list(queryset)
    agency = agency_of(user)
    if agency is None:
        return [p for p in queryset if p.is_signed]
    return [p for p in queryset if p.is_signed or p.referral.agency_id == agency.pk]


def notes_visible_to(user, access_request):
    """Internal notes of ``user``'s agency on the case (auditors read every agency's)."""
    queryset = InternalNote.objects.filter(access_request=access_request).select_related("agency", "author")
    if getattr(user, "sees_everything", False):
        return list(queryset)
    agency = agency_of(user)
    if agency is None:
        return []
    return list(queryset.filter(agency=agency))


def position_versions(positions):
    """``{position id: "drafted by A, redrafted by B, signed by C"}`` from the positions' history,
    in one query: who wrote each version of a position, and who signed it (the two-person rule
    is read from this, not from the last drafter alone)."""
    ids = [p.pk for p in positions]
    if not ids:
        return {}
    rows = (
        Position.history.filter(id__in=ids)
        .select_related("drafted_by", "signed_by")
        .order_by("id", "history_date", "history_id")
    )
    steps, previous = {}, {}
    for row in rows:
        before = previous.get(row.id)
        words = steps.setdefault(row.id, [])
        if before is None:
            words.append(f"drafted by {_name(row.drafted_by)}")
        elif row.drafted_at != before.drafted_at:
            words.append(f"redrafted by {_name(row.drafted_by)}")
        if row.signed_by_id and (before is None or not before.signed_by_id):
            words.append(f"signed by {_name(row.signed_by)}")
        previous[row.id] = row
    texts = {pk: ", ".join(words) for pk, words in steps.items()}
    return {pk: text[:1].upper() + text[1:] for pk, text in texts.items()}


def _name(user):
    return (user.full_name or user.email) if user is not None else "someone no longer on the portal"


def agency_case(user, access_request):
    """Everything the agency case page shows for ``user``."""
    agency = agency_of(user)
    referrals = list(
        access_request.referrals.select_related("agency")
        .prefetch_related("assigned_officials")
        .order_by("-agency__is_lead", "agency__code")
    )
    positions = {p.referral_id: p for p in positions_visible_to(user, access_request)}
    versions = position_versions(positions.values())
    for position in positions.values():
        position.versions_text = versions.get(position.pk, "")
    for referral in referrals:
        referral.visible_position = positions.get(referral.pk)
        referral.is_mine = agency is not None and referral.agency_id == agency.pk
    questions = list(
        access_request.information_requests.select_related(
            "agency", "asked_by", "answered_by"
        ).prefetch_related("documents")
    )
    decision = Decision.objects.filter(access_request=access_request).select_related("decided_by").first()
    return {
        "agency": agency,
        "my_referral": next((r for r in referrals if r.is_mine), None),
        "referrals": referrals,
        "questions": questions,
        "documents": list(access_request.documents.filter(information_request__isnull=True)),
        "notes": notes_visible_to(user, access_request),
        "decision": decision,
        "decision_conditions": list(decision.conditions.select_related("agency")) if decision else [],
        "grant": Grant.objects.filter(access_request=access_request).first(),
        "escalation": Escalation.objects.filter(access_request=access_request)
        .select_related("raised_by")
        .first(),
        "intent_to_deny": IntentToDeny.objects.filter(access_request=access_request).first(),
        "signed_conditions": list(
            Condition.objects.filter(
                access_request=access_request, position__signed_at__isnull=False
            ).select_related("agency")
        ),
    }


def _own_agency(user, queryset, field="agency"):
    agency = agency_of(user)
    return queryset.filter(**{field: agency}) if agency is not None else queryset.none()


def _of_visible_requests(user, queryset, field="access_request"):
    return queryset.filter(**{f"{field}__in": requests_visible_to(user).values("pk")})


AUDIT_SCOPES = {
    # another agency's referral, drafts and notes are internal to it
    "approvals.referral": lambda user: _own_agency(user, Referral.objects.all()),
    "approvals.position": lambda user: _own_agency(user, Position.objects.all(), "referral__agency"),
    "approvals.internalnote": lambda user: _own_agency(user, InternalNote.objects.all()),
    "approvals.condition": lambda user: (
        _own_agency(user, Condition.objects.all())
        | _of_visible_requests(user, Condition.objects.filter(position__signed_at__isnull=False))
        | _of_visible_requests(user, Condition.objects.filter(position__isnull=True))
    ),
    "approvals.requestdocument": lambda user: _of_visible_requests(user, RequestDocument.objects.all()),
    "approvals.escalation": lambda user: _of_visible_requests(user, Escalation.objects.all()),
    "approvals.intenttodeny": lambda user: _of_visible_requests(user, IntentToDeny.objects.all()),
    "approvals.decision": lambda user: _of_visible_requests(user, Decision.objects.all()),
    # a suspension's cut-off attestations, read by whoever may read the suspension
    "approvals.cutoffattestation": lambda user: CutoffAttestation.objects.filter(
        suspension__in=permissions.visible_to(user, EnforcementAction.objects.all()).values("pk")
    ),
    # reference data every official reads
    "approvals.agency": lambda user: Agency.objects.all(),
    "approvals.routingrule": lambda user: RoutingRule.objects.all(),
}


def case_evidence(user, access_request):
    """The evidence of the request's model and customer that ``user`` may download."""
    from vendors.models import EvidenceDocument

    queryset = EvidenceDocument.objects.filter(
        Q(frontier_model_id=access_request.frontier_model_id)
        | Q(partner_customer_id=access_request.partner_customer_id)
    ).order_by("frontier_model_id", "kind", "pk")
    return list(permissions.visible_to(user, queryset))


def case_enforcement(user, access_request):
    """Enforcement actions on the request's model, vendor or grant, newest first."""
    queryset = (
        EnforcementAction.objects.filter(
            Q(frontier_model_id=access_request.frontier_model_id)
            | Q(vendor_id=access_request.vendor_id, kind__in=["designate_vendor", "rescind_designation"])
            | Q(grant__access_request_id=access_request.pk)
        )
        .select_related("taken_by", "frontier_model", "vendor")
        .order_by("-taken_at", "-pk")
    )
    return list(permissions.visible_to(user, queryset))
