"""Who hears about what, and the links in their mail."""

from collections import defaultdict

from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from approvals.events import announce
from approvals.models import (
    Agency,
    Referral,
)
from approvals.selectors.people import vendor_compliance_team
from approvals.services._common import _date
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Role, User
from portal.notifications.services import notify


def _vendor_link(access_request):
    return reverse("approvals:detail", args=[access_request.tracking_number or access_request.pk])


def _case_link(access_request):
    return reverse("admin:approvals_accessrequest_change", args=[access_request.pk])


def _notify_vendor(access_request, *, event, subject, key, context=None, attachment=None):
    """The vendor's compliance team hears of an event on its request, linked to its request page."""
    announce(access_request.vendor, event=event, key=key, access_request=access_request)
    _notify_people(
        vendor_compliance_team(access_request.vendor),
        event=event,
        subject=subject,
        key=key,
        link=_vendor_link(access_request),
        label=str(access_request),
        context={"tracking_number": str(access_request), **(context or {})},
        attachment=attachment,
    )


def _notify_officials(access_request, recipients, *, event, subject, key, context=None, attachment=None):
    """Officials hear of an event on a request, linked to the agency's case page."""
    _notify_people(
        recipients,
        event=event,
        subject=subject,
        key=key,
        link=_case_link(access_request),
        label=str(access_request),
        context={"tracking_number": str(access_request), **(context or {})},
        attachment=attachment,
    )


def _notify_vendor_and_officials(
    access_request,
    officials,
    *,
    event,
    subject,
    key,
    context=None,
    official_subject=None,
    official_context=None,
    official_key=None,
    attachment=None,
):
    """Both sides of a request hear of the same event, each linked to its own page."""
    _notify_vendor(
        access_request, event=event, subject=subject, key=key, context=context, attachment=attachment
    )
    _notify_officials(
        access_request,
        officials,
        event=event,
        subject=official_subject or subject,
        key=official_key or key,
        context=context if official_context is None else official_context,
        attachment=attachment,
    )


def _notify_team_and_officials(
    vendor,
    officials,
    *,
    event,
    subject,
    key,
    label,
    vendor_link,
    official_link,
    context=None,
    official_key=None,
    official_subject=None,
    attachment=None,
):
    """A vendor's compliance team and the officials concerned hear of the same enforcement event,
    each linked to its own side's page (the officials' rows keyed apart, so both are kept)."""
    announce(vendor, event=event, key=key)
    _notify_people(
        vendor_compliance_team(vendor),
        event=event,
        subject=subject,
        key=key,
        link=vendor_link,
        label=label,
        context=context,
        attachment=attachment,
    )
    _notify_people(
        officials,
        event=event,
        subject=official_subject or subject,
        key=official_key or key,
        link=official_link,
        label=label,
        context=context,
        attachment=attachment,
    )


def _referred_officials(access_request, roles=AGENCY_ROLES):
    return _referred_officials_of([access_request.pk], roles)[access_request.pk]


def _referred_officials_of(request_ids, roles=AGENCY_ROLES):
    """``{request id: [the active officials of every agency referred on it]}``, in two queries
    however many requests."""
    organisations = defaultdict(set)
    for request_id, organisation_id in Referral.objects.filter(access_request_id__in=request_ids).values_list(
        "access_request_id", "agency__organisation_id"
    ):
        organisations[request_id].add(organisation_id)
    people = defaultdict(list)
    wanted = set().union(*organisations.values())
    for user in User.objects.filter(organisation_id__in=wanted, role__in=roles, is_active=True).order_by(
        "pk"
    ):
        people[user.organisation_id].append(user)
    return {
        request_id: [
            user for organisation in sorted(organisations[request_id]) for user in people[organisation]
        ]
        for request_id in request_ids
    }


def _notify_officials_outside(access_request, recipients, event, subject, key, agency, days, referral):
    with transaction.atomic():
        return notify(
            event=event,
            recipients=recipients,
            subject=subject,
            context={
                "tracking_number": str(access_request),
                "agency": agency.code,
                "days": days,
                "due_date": _date(referral.due_date),
            },
            link=_case_link(access_request),
            key=key,
            object_label=str(access_request),
        )


def vendor_model_link(frontier_model):
    return reverse("vendors:model_detail", args=[frontier_model.pk])


def admin_model_link(frontier_model):
    return reverse("admin:approvals_enforcementaction_model", args=[frontier_model.pk])


def admin_action_link(action):
    return reverse("admin:approvals_enforcementaction_change", args=[action.pk])


def _officials_concerned(*, frontier_model=None, vendor=None, roles=AGENCY_ROLES):
    """Officials of the lead agency and of every agency holding referrals (hence grants) for the
    model or the vendor's requests."""
    referrals = Referral.objects.all()
    if frontier_model is not None:
        referrals = referrals.filter(access_request__frontier_model=frontier_model)
    if vendor is not None:
        referrals = referrals.filter(access_request__vendor=vendor)
    # (no ordering: the referrals' default order would make the DISTINCT sort every referral)
    organisation_ids = set(referrals.order_by().values_list("agency__organisation_id", flat=True).distinct())
    organisation_ids |= set(Agency.objects.filter(is_lead=True).values_list("organisation_id", flat=True))
    return list(User.objects.filter(organisation_id__in=organisation_ids, role__in=roles, is_active=True))


def _lead_approvers():
    """Every active approver of the lead agency (of every lead agency, should there be more)."""
    return list(
        User.objects.filter(
            organisation__agency__is_lead=True, role=Role.AGENCY_APPROVER, is_active=True
        ).order_by("pk")
    )


def _all_agency_groups():
    return [agency.officials_group for agency in Agency.objects.select_related("officials_group")]


def _share_with_agencies(obj, *, also=()):
    """Every agency's officials read ``obj`` (and ``also``: the model it concerns, with evidence)."""
    from vendors.services import share_with_group

    for group in _all_agency_groups():
        permissions.grant("view", group, obj)
        for extra in also:
            share_with_group(extra, group)


def _notify_people(recipients, *, event, subject, key, link, label, context=None, attachment=None):
    return notify(
        event=event,
        recipients=recipients,
        subject=subject,
        context=context or {},
        link=link,
        key=key,
        object_label=label,
        attachment=attachment,
    )


def _agencies_concerned_by(action):
    """The lead agency and every agency whose cases ``action`` concerns: a referral on the revoked
    grant's request, on a request for the suspended model, or on any request of the designated
    vendor. The same rule picks the officials e-mailed (``_officials_concerned``)."""
    referrals = Referral.objects.all()
    if action.grant_id is not None:
        referrals = referrals.filter(access_request__grant=action.grant_id)
    elif action.frontier_model_id is not None:
        referrals = referrals.filter(access_request__frontier_model_id=action.frontier_model_id)
    else:
        referrals = referrals.filter(access_request__vendor_id=action.vendor_id)
    return Agency.objects.filter(Q(is_lead=True) | Q(pk__in=referrals.values("agency_id"))).select_related(
        "officials_group"
    )


def _share_action(action):
    """The vendor's members and the agencies the action concerns read it (see the README's
    "Who sees what"); an agency referred a case later is given it by ``routing._share_case``."""
    permissions.grant("view", action.vendor.members_group, action)
    for agency in _agencies_concerned_by(action):
        permissions.grant("view", agency.officials_group, action)
