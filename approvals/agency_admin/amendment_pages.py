"""Amendments on the agency side: the lead agency's panel of grants whose facts changed since
approval, and the page that confirms a grant on the amended facts (its button is on the case page,
shown by ``policies.can_confirm_grant_facts``)."""

from django import forms

from approvals import policies, selectors, services
from approvals.agency_admin.actions import ActionPage
from approvals.agency_admin.lists import case_url
from approvals.models import Grant
from approvals.selectors.amendments import changed_grants_panel as _changed_grants
from approvals.selectors.amendments import facts_as_reviewed, pending_facts_changes
from portal.accounts.models import AGENCY_ROLES


def changed_grants_panel(request):
    """``ADMIN_DASHBOARD_PANELS``: the lead agency's grants with facts changed since approval."""
    user = request.user
    if user.role not in AGENCY_ROLES and not user.sees_everything:
        return None
    context = _changed_grants(user)
    if context is None:
        return None
    return {"template": "admin/approvals/amendments/dashboard_changed_grants.html", "context": context}


def case_context(access_request, decision=None, grant=None):
    """What the case page and the letter show of amendments (``amendments/_facts.html``)."""
    amendments = selectors.case_amendments(access_request)
    return {
        "facts": facts_as_reviewed(access_request, decision, amendments=amendments),
        "amendments": amendments,
        "grant_changes": pending_facts_changes(grant),
    }


class ConfirmFactsForm(forms.Form):
    note = forms.CharField(
        label="Why the grant stands on the amended facts",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        help_text="Kept in the grant's history and shown to auditors.",
    )


def _grant(access_request):
    return Grant.objects.filter(access_request=access_request).select_related("partner_customer").first()


def _allowed(user, access_request):
    grant = _grant(access_request)
    return grant is not None and policies.can_confirm_grant_facts(user, grant)


def _confirm(request, access_request, form):
    grant = _grant(access_request)
    confirmed = services.confirm_grant_facts(grant=grant, actor=request.user, note=form.cleaned_data["note"])
    count = len(confirmed)
    amendments = f"{count} amendment{'s' * (count != 1)}"
    return f"The grant of {access_request} is confirmed on the amended facts ({amendments})."


def _context(request, access_request):
    grant = _grant(access_request)
    return {"access_request": access_request, "grant": grant, **case_context(access_request, grant=grant)}


AMENDMENT_ACTIONS = [
    ActionPage(
        name="confirm_facts",
        route="<int:pk>/confirm-facts/",
        lookup=lambda model_admin, request, pk: model_admin._case_request(request, pk),
        allowed=_allowed,
        form_class=ConfirmFactsForm,
        call=_confirm,
        title=lambda access_request: f"Confirm the grant of {access_request} on the amended facts",
        back=case_url,
        template="admin/approvals/amendments/confirm.html",
        context=_context,
    ),
]
