"""Amendments: who confirms a grant whose facts changed since approval."""

from approvals.models import GrantFactsChange
from approvals.policies.common import _asks, _refuse, require_lead_approver
from approvals.policies.enforcement import _require_grant_in_force


def require_confirm_grant_facts(actor, grant):
    """An approver of the lead agency, on a grant in force with facts changed since approval."""
    require_lead_approver(actor, "confirm a grant on amended facts", grant)
    _require_grant_in_force(grant)
    if not GrantFactsChange.objects.filter(grant=grant, status=GrantFactsChange.Status.PENDING).exists():
        _refuse(
            f"No fact of the grant for {grant.partner_customer} changed since approval (or it is confirmed)."
        )


can_confirm_grant_facts = _asks(require_confirm_grant_facts, "confirm the grant on the amended facts")
