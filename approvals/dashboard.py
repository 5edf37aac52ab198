"""The review process's panel on the vendor dashboard (listed in ``VENDOR_DASHBOARD_PANELS``)."""

from approvals import selectors
from approvals.models import AccessRequest


def requests_panel(request):
    """Requests by status and everything waiting on the vendor: open questions, intents to deny."""
    user = request.user
    if not user.is_authenticated or not user.is_vendor_member:
        return None
    counts = selectors.status_counts(user)
    questions, intents = selectors.waiting_on_vendor(user)
    return {
        "template": "approvals/dashboard_panel.html",
        "context": {
            "statuses": [
                (value, label, counts.get(value, 0)) for value, label in AccessRequest.Status.choices
            ],
            "total": sum(counts.values()),
            "questions": questions,
            "intents": intents,
            "can_act": user.role in {"vendor_admin", "vendor_officer"},
        },
    }
