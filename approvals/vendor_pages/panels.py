"""The review process's panels on the vendor's pages.

``requests_panel`` goes in ``VENDOR_DASHBOARD_PANELS``: requests by status, everything waiting
on the vendor in one list (questions, intents to deny, the designation's answer, incident reports
to complete, cut-off attestations after a suspension) and grants ending within 60 days.

``designation_panel`` goes in ``VENDOR_DASHBOARD_PANELS``: the designation (with the form to answer
it while the answer is due), models pulled offline. Each is shown once.
``model_panel`` goes in ``VENDOR_MODEL_PANELS``: on a model's page, its pre-release reviews,
the enforcement actions taken on it, its grants and its incidents.
"""

from django.utils import timezone

from approvals import policies, selectors
from approvals.models import EnforcementAction
from approvals.models.requests import AccessRequest
from approvals.vendor_pages.forms import DesignationResponseForm
from vendors.models import FrontierModel

Phase = FrontierModel.ReleasePhase


def designation_panel(request):
    """Notices needing the vendor's answer; nothing at all when there are none."""
    user = request.user
    if not user.is_authenticated or not user.is_vendor_member:
        return None
    designations = selectors.designations_awaiting_answer(user)
    standing = (
        None
        if designations
        else selectors.actions_visible_to(user)
        .filter(kind=EnforcementAction.Kind.DESIGNATE_VENDOR, status=EnforcementAction.Status.IN_FORCE)
        .first()
    )
    suspensions = list(
        selectors.actions_visible_to(user).filter(
            kind=EnforcementAction.Kind.SUSPEND_MODEL, status=EnforcementAction.Status.IN_FORCE
        )
    )
    if not (designations or standing or suspensions):
        return None
    for designation in designations:
        designation.can_answer = policies.can_respond_to_designation(user, designation)
    return {
        "template": "approvals/enforcement/dashboard_panel.html",
        "context": {
            "designations": designations,
            "standing": standing,
            "suspensions": suspensions,
            "form": DesignationResponseForm() if any(d.can_answer for d in designations) else None,
        },
    }


def model_panel(request, frontier_model):
    """The model's reviews, enforcement actions, grants and incidents, as its vendor may read them."""
    user = request.user
    if not user.is_authenticated or not user.is_vendor_member:
        return None
    data = selectors.vendor_model_panel(user, frontier_model)
    return {
        "template": "approvals/enforcement/model_panel.html",
        "context": {
            **data,
            "frontier_model": frontier_model,
            "can_submit": policies.can_submit_for_prerelease_review(user, frontier_model),
            "can_report": policies.can_report_incident(user, frontier_model),
        },
    }


def _waiting_items(user, *, today):
    """Everything waiting on the vendor, in one list, soonest due first: answers to questions,
    responses to intents to deny, the designation's answer, incident reports to complete."""
    questions, intents = selectors.waiting_on_vendor(user)
    items = [("question", q.deadline, q) for q in questions]
    items += [("intent", itd.respond_by, itd) for itd in intents]
    items += [
        ("designation", d.respond_by, d)
        for d in selectors.designations_awaiting_answer(user)
        if d.respond_by >= today
    ]
    items += [("incident", i.due_on, i) for i in selectors.incidents_to_complete(user)]
    items += [
        ("attestation", timezone.localdate(s.attest_by), s) for s in selectors.attestations_awaiting(user)
    ]
    return [{"kind": kind, "due": due, "item": item} for kind, due, item in sorted(items, key=lambda x: x[1])]


def requests_panel(request):
    """Requests by status, everything waiting on the vendor in one list, and grants ending within
    60 days (with the renewal button)."""
    user = request.user
    if not user.is_authenticated or not user.is_vendor_member:
        return None
    counts = selectors.status_counts(user)
    today = timezone.localdate()
    waiting = _waiting_items(user, today=today)
    vendor = getattr(request, "vendor", None)
    can_act = user.role in {"vendor_admin", "vendor_officer"}
    return {
        "template": "approvals/dashboard_panel.html",
        "context": {
            "statuses": [
                (value, label, counts.get(value, 0)) for value, label in AccessRequest.Status.choices
            ],
            "total": sum(counts.values()),
            "waiting": waiting,
            "only_designation": bool(waiting) and all(w["kind"] == "designation" for w in waiting),
            "expiring": selectors.grants_expiring_soon(user, vendor=vendor) if vendor is not None else [],
            "expiring_days": selectors.EXPIRING_SOON_DAYS,
            "can_act": can_act,
        },
    }
