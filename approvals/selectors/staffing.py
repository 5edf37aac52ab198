"""Staffed routing (issue 13): which agencies have nobody who can sign, which rules and open
referrals send work to them, and who is actually mailed about an enforcement action."""

from django.db.models import Exists, OuterRef, Q

from approvals.models import Agency, Referral, RoutingRule
from approvals.policies import ACTIVE_REFERRAL_STATUSES
from portal.accounts.models import AGENCY_ROLES, Role, User


def _approvers_of(agency_ref):
    return User.objects.filter(organisation_id=agency_ref, role=Role.AGENCY_APPROVER, is_active=True)


def unstaffed_agencies():
    """Agencies with no active approver: nobody there can sign a position, so a required referral
    to them can never be answered."""
    return (
        Agency.objects.annotate(staffed=Exists(_approvers_of(OuterRef("organisation_id"))))
        .filter(staffed=False)
        .order_by("code")
    )


def unstaffed_routing_rules():
    """Active routing rules that send requests to an agency nobody can sign for."""
    return (
        RoutingRule.objects.filter(is_active=True, agency__in=unstaffed_agencies())
        .select_related("agency")
        .order_by("agency__code", "condition")
    )


def agency_staffed(path="organisation_id"):
    """An annotation: whether the agency at ``path`` (its organisation id) has an active approver."""
    return Exists(_approvers_of(OuterRef(path)))


def is_staffed(agency):
    return _approvers_of(agency.organisation_id).exists()


def unstaffed_referrals(requests=None):
    """Open referrals (of ``requests``, a queryset of access requests, if given) to an agency
    nobody can sign for, with their request and agency."""
    unstaffed = list(unstaffed_agencies().values_list("pk", flat=True))
    if not unstaffed:  # the usual case: nothing to read (issue 18: the lead's dashboard asks)
        return Referral.objects.none()
    referrals = Referral.objects.filter(status__in=ACTIVE_REFERRAL_STATUSES, agency__in=unstaffed)
    if requests is not None:  # probed per referral, not every visible request hashed first
        referrals = referrals.filter(Exists(requests.filter(pk=OuterRef("access_request_id"))))
    return referrals.select_related("agency", "access_request").order_by("due_date", "pk")


def officials_told(*, frontier_model=None, vendor=None, access_request=None, actor=None):
    """``[(agency code, [names])]``: the officials actually e-mailed about an enforcement action —
    of the lead agency and of every agency holding a referral on the model's (or the vendor's, or
    the one request's) requests — without the person taking it. An agency with nobody to mail is
    left out: the confirmation pages name only who is told."""
    referrals = Referral.objects.all()
    if access_request is not None:
        referrals = referrals.filter(access_request=access_request)
    elif frontier_model is not None:
        referrals = referrals.filter(access_request__frontier_model=frontier_model)
    elif vendor is not None:
        referrals = referrals.filter(access_request__vendor=vendor)
    agencies = Agency.objects.filter(Q(is_lead=True) | Q(pk__in=referrals.values("agency_id")))
    people = (
        User.objects.filter(organisation__agency__in=agencies, role__in=AGENCY_ROLES, is_active=True)
        .exclude(pk=getattr(actor, "pk", None))
        .select_related("organisation__agency")
        .order_by("organisation__agency__code", "full_name", "email")
    )
    told = {}
    for person in people:
        told.setdefault(person.organisation.agency.code, []).append(person.full_name or person.email)
    return list(told.items())
