"""Scheduled reminders: referral clocks, incident reports and designation windows."""

from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from approvals.models import (
    EnforcementAction,
    Grant,
    IncidentReport,
    Referral,
)
from approvals.selectors.people import agency_officials
from approvals.services._common import ACTIVE_REFERRAL_STATUSES, UNDER_REVIEW, Kind, _date
from approvals.services._notify import (
    _notify_officials_outside,
    _notify_people,
    _vendor_link,
    vendor_compliance_team,
)
from portal.accounts.models import Role
from portal.notifications.services import notify


def send_clock_reminders(*, today=None):
    """Scheduled daily: referrals due within 5 days or overdue, grants expiring in 30 and 7 days.

    Idempotent: the notification key names the referral and its due date (due soon), the day
    (overdue, one reminder a day) or the grant and the threshold (expiry).
    """
    today = today or timezone.localdate()
    sent = 0
    referrals = (
        Referral.objects.filter(
            status__in=ACTIVE_REFERRAL_STATUSES,
            clock_stopped_at__isnull=True,
            access_request__status__in=UNDER_REVIEW,
            due_date__lte=today + timedelta(days=5),
        )
        .select_related("agency", "access_request")
        .prefetch_related("assigned_officials")
    )
    approvers = {}
    for referral in referrals:
        agency = referral.agency
        if agency.pk not in approvers:
            approvers[agency.pk] = agency_officials(agency, {Role.AGENCY_APPROVER})
        recipients = [*referral.assigned_officials.all(), *approvers[agency.pk]]
        days = (referral.due_date - today).days
        if days < 0:
            event, key = "referral_overdue", f"{referral.pk}:{today.isoformat()}"
            plural = "s" if days != -1 else ""
            subject = f"Overdue by {-days} day{plural}: {referral.access_request} ({agency.code})"
        else:
            event, key = "referral_due_soon", f"{referral.pk}:{referral.due_date.isoformat()}"
            subject = (
                f"Due in {days} day{'s' if days != 1 else ''}: {referral.access_request} ({agency.code})"
            )
        sent += len(
            _notify_officials_outside(
                referral.access_request, recipients, event, subject, key, agency, days, referral
            )
        )
    grants = Grant.objects.filter(
        status=Grant.Status.ACTIVE, valid_to__gte=today, valid_to__lte=today + timedelta(days=30)
    ).select_related("vendor", "access_request", "frontier_model", "partner_customer")
    teams = {}
    for grant in grants:
        days = (grant.valid_to - today).days
        threshold = 7 if days <= 7 else 30
        if grant.vendor_id not in teams:
            teams[grant.vendor_id] = vendor_compliance_team(grant.vendor)
        sent += len(
            notify(
                event="grant_expiring",
                recipients=teams[grant.vendor_id],
                subject=(
                    f"Access for {grant.partner_customer} to {grant.frontier_model} ends "
                    f"{_date(grant.valid_to)}"
                ),
                context={
                    "tracking_number": str(grant.access_request),
                    "customer": str(grant.partner_customer),
                    "model": str(grant.frontier_model),
                    "valid_to": _date(grant.valid_to),
                    "days": days,
                },
                link=_vendor_link(grant.access_request),
                key=f"{grant.pk}:{threshold}",
                object_label=str(grant.access_request),
            )
        )
    return sent


def send_enforcement_reminders(*, today=None):
    """Daily: incident reports still initial when due tomorrow, today or overdue (one reminder a day),
    designations whose window to answer closes in 7 days or tomorrow, and suspensions whose cut-off
    attestations are overdue (``send_attestation_reminders``). Idempotent per day."""
    today = today or timezone.localdate()
    sent = 0
    teams = {}

    def team(vendor):
        if vendor.pk not in teams:
            teams[vendor.pk] = vendor_compliance_team(vendor)
        return teams[vendor.pk]

    incidents = IncidentReport.objects.filter(
        status=IncidentReport.Status.INITIAL, due_on__lte=today + timedelta(days=1)
    ).select_related("vendor", "frontier_model")
    for incident in incidents:
        days = (incident.due_on - today).days
        when = "overdue" if days < 0 else ("due today" if days == 0 else "due tomorrow")
        with transaction.atomic():
            sent += len(
                _notify_people(
                    team(incident.vendor),
                    event="incident_report_due",
                    subject=f"Complete report {when}: {incident.reference} ({incident.frontier_model})",
                    key=f"{incident.pk}:{today.isoformat()}",
                    link=reverse("enforcement:incident_detail", args=[incident.pk]),
                    label=incident.reference,
                    context={
                        "reference": incident.reference,
                        "model": str(incident.frontier_model),
                        "due_on": _date(incident.due_on),
                        "when": when,
                    },
                )
            )
    designations = EnforcementAction.objects.filter(
        kind=Kind.DESIGNATE_VENDOR,
        status=EnforcementAction.Status.IN_FORCE,
        responded_at__isnull=True,
        respond_by__in=[today + timedelta(days=7), today + timedelta(days=1)],
    ).select_related("vendor")
    for designation in designations:
        days = (designation.respond_by - today).days
        with transaction.atomic():
            sent += len(
                _notify_people(
                    team(designation.vendor),
                    event="designation_response_due",
                    subject=f"Answer the designation by {_date(designation.respond_by)}",
                    key=f"{designation.pk}:{days}",
                    link=reverse("enforcement:designation"),
                    label=str(designation.vendor),
                    context={"vendor": str(designation.vendor), "respond_by": _date(designation.respond_by)},
                )
            )
    from approvals.services.attestations import send_attestation_reminders

    sent += send_attestation_reminders(today=today)
    return sent
