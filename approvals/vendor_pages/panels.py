"""The review process's panels on the vendor's pages.

``requests_panel`` goes in ``VENDOR_DASHBOARD_PANELS``: requests by status and everything waiting
on the vendor (open questions, intents to deny).

``designation_panel`` goes in ``VENDOR_DASHBOARD_PANELS``: a designation awaiting the vendor's
answer (with the form to answer it), incident reports still to complete, models pulled offline.
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
    incidents = selectors.incidents_to_complete(user)
    suspensions = list(
        selectors.actions_visible_to(user).filter(
            kind=EnforcementAction.Kind.SUSPEND_MODEL, status=EnforcementAction.Status.IN_FORCE
        )
    )
    if not (designations or incidents or suspensions):
        return None
    for designation in designations:
        designation.can_answer = policies.can_respond_to_designation(user, designation)
    return {
        "template": "approvals/enforcement/dashboard_panel.html",
        "context": {
            "designations": designations,
            "incidents": incidents,
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


def requests_panel(request):
    """Requests by status and everything waiting on the vendor: open questions, intents to deny."""
    user = request.user
    if not user.is_authenticated or not user.is_vendor_member:
        return None
    counts = selectors.status_counts(user)
    questions, intents = selectors.waiting_on_vendor(user)
    today = timezone.localdate()
    designation_due = any(d.respond_by >= today for d in selectors.designations_awaiting_answer(user))
    return {
        "template": "approvals/dashboard_panel.html",
        "context": {
            "statuses": [
                (value, label, counts.get(value, 0)) for value, label in AccessRequest.Status.choices
            ],
            "total": sum(counts.values()),
            "questions": questions,
            "intents": intents,
            "designation_due": designation_due,
            "can_act": user.role in {"vendor_admin", "vendor_officer"},
        },
    }
