"""Incident reports: the vendor's first report and its completion, on a clock by severity."""

from datetime import date, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from approvals import policies
from approvals.models import (
    IncidentReport,
)
from approvals.services._common import (
    UNCHANGED,
    _clean_text,
    _date,
    _person,
    _save,
    service,
)
from approvals.services._notify import _notify_people, _officials_concerned, _share_with_agencies
from portal import permissions
from portal.errors import PortalError
from portal.params import past_day_problem
from vendors.models import FrontierModel

# Days from detection to the complete incident report, by severity (DESIGN.md, issue 5).
INCIDENT_REPORT_DAYS = {
    IncidentReport.Severity.CRITICAL_INFRASTRUCTURE: 2,
    IncidentReport.Severity.SECURITY_BREACH: 5,
    IncidentReport.Severity.SERIOUS: 15,
}


def incident_report_days(severity):
    """The clock of an incident report of ``severity``; ``INCIDENT_REPORT_DAYS`` in settings overrides."""
    configured = {**INCIDENT_REPORT_DAYS, **getattr(settings, "INCIDENT_REPORT_DAYS", {})}
    return int(configured[severity])


def _clean_customers(vendor, customers):
    customers = list(customers or [])
    foreign = [c for c in customers if c.vendor_id != vendor.pk]
    if foreign:
        raise PortalError("Choose only your own partner customers.", field="affected_customers")
    return customers


def _notify_incident(incident, *, event, subject, actor):
    _notify_people(
        [u for u in _officials_concerned(frontier_model=incident.frontier_model) if u != actor],
        event=event,
        subject=subject,
        key=f"{incident.pk}:{incident.status}",
        link=reverse("admin:approvals_incidentreport_change", args=[incident.pk]),
        label=incident.reference,
        context={
            "reference": incident.reference,
            "model": str(incident.frontier_model),
            "vendor": str(incident.vendor),
            "category": incident.get_category_display(),
            "severity": incident.get_severity_display(),
            "due_on": _date(incident.due_on),
            "status": incident.get_status_display(),
        },
    )


@service
def report_incident(
    *,
    frontier_model,
    actor,
    category,
    severity,
    description,
    detected_on,
    affected_customers=(),
    other_affected="",
    root_cause="",
    remediation="",
):
    """The vendor reports a serious incident with one of its models. The complete report is due
    within the severity's clock (2, 5 or 15 days from detection); with root cause and remediation
    given now, the report is complete at once."""
    frontier_model = FrontierModel.objects.select_related("vendor").get(pk=frontier_model.pk)
    vendor = frontier_model.vendor
    policies.require_report_incident(actor, frontier_model)
    problems = []
    if category not in IncidentReport.Category.values:
        problems.append(("category", "Choose what kind of incident it is."))
    if severity not in IncidentReport.Severity.values:
        problems.append(("severity", "Choose the severity: it sets the report's deadline."))
    description = _clean_text(description)
    if not description:
        problems.append(("description", "Describe what happened, when, and what was done so far."))
    today = timezone.localdate()
    if not isinstance(detected_on, date):
        problems.append(("detected_on", "Give the day you became aware of the incident."))
    elif past_day_problem(detected_on, today=today):
        problems.append(
            ("detected_on", past_day_problem(detected_on, today=today, what="The day you became aware of it"))
        )
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    customers = _clean_customers(vendor, affected_customers)
    root_cause, remediation = _clean_text(root_cause), _clean_text(remediation)
    now = timezone.now()
    complete = bool(root_cause and remediation)
    incident = IncidentReport(
        vendor=vendor,
        frontier_model=frontier_model,
        category=category,
        severity=severity,
        description=description,
        detected_on=detected_on,
        due_on=detected_on + timedelta(days=incident_report_days(severity)),
        other_affected=_clean_text(other_affected),
        root_cause=root_cause,
        remediation=remediation,
        reported_by=actor,
        reported_at=now,
        status=IncidentReport.Status.COMPLETE if complete else IncidentReport.Status.INITIAL,
        completed_by=actor if complete else None,
        completed_at=now if complete else None,
    )
    word = "Complete report" if complete else "Initial report"
    _save(incident, actor=actor, reason=f"{word} filed by {_person(actor)}.")
    if customers:
        incident.affected_customers.set(customers)
    permissions.grant("view", vendor.members_group, incident)
    permissions.grant(["view", "change"], vendor.editors_group, incident)
    _share_with_agencies(incident, also=[frontier_model])
    _notify_incident(
        incident,
        event="incident_reported",
        subject=f"Incident with {frontier_model}: {incident.get_category_display()} "
        f"({incident.get_severity_display().lower()})",
        actor=actor,
    )
    return incident


@service
def complete_incident_report(
    *, incident, actor, root_cause, remediation, affected_customers=UNCHANGED, other_affected=UNCHANGED
):
    """The vendor completes an initial report with the root cause, the remediation and who was affected."""
    incident = (
        IncidentReport.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor", "frontier_model")
        .get(pk=incident.pk)
    )
    policies.require_complete_incident(actor, incident)
    root_cause, remediation = _clean_text(root_cause), _clean_text(remediation)
    problems = []
    if not root_cause:
        problems.append(("root_cause", "Explain the root cause as far as it is known."))
    if not remediation:
        problems.append(("remediation", "Describe what was done, and will be done, to remedy it."))
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    now = timezone.now()
    incident.root_cause = root_cause
    incident.remediation = remediation
    fields = ["root_cause", "remediation", "status", "completed_by", "completed_at"]
    if other_affected is not UNCHANGED:
        incident.other_affected = _clean_text(other_affected)
        fields.append("other_affected")
    incident.status = IncidentReport.Status.COMPLETE
    incident.completed_by = actor
    incident.completed_at = now
    late = " (after its deadline)" if timezone.localdate(now) > incident.due_on else ""
    _save(incident, actor=actor, reason=f"Report completed by {_person(actor)}{late}.", update_fields=fields)
    if affected_customers is not UNCHANGED:
        incident.affected_customers.set(_clean_customers(incident.vendor, affected_customers))
    _notify_incident(
        incident,
        event="incident_completed",
        subject=f"Incident report completed: {incident.reference} with {incident.frontier_model}",
        actor=actor,
    )
    return incident
