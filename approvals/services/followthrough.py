"""What follows a suspension once it has taken effect: the notice's PDF typeset, the vendor asked to
attest each customer's cut-off, the vendor's team, the officials concerned and the partners'
security contacts told.

``suspend_model`` changes the state in one transaction (the model, its grants with their
history, the open requests, the action and its notice) and leaves the rest to
``follow_through_suspension``, which runs when that transaction commits (``on_commit``, in the
same process: in the enforcement order's job, right before it reports "Finished"). Ten thousand
attestations, thousands of partner notices and a typeset PDF no longer hold the grants' row
locks, and the suspension itself stays within twice a bare ``UPDATE`` of the grants.

It is idempotent (``EnforcementAction.followed_through_at`` says it was done, set in the same
transaction as the work) and durable: a process stopped between the two transactions leaves the
action pending, and ``follow_through_pending`` (scheduled every five minutes,
``enforcement-follow-through``) finishes it. Until then the action, the grants and the letter's
page are already there; only the PDF, the attestations and the mail wait.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from approvals.models import EnforcementAction, Grant, Letter
from approvals.services import partner_notices
from approvals.services._common import Kind, _plural, _save, service
from approvals.services._notify import (
    _notify_team_and_officials,
    _officials_concerned,
    admin_model_link,
    vendor_model_link,
)
from approvals.services.attestations import _when, ask_cutoff_attestations
from approvals.services.letters import letter_attachment, typeset_letter

logger = logging.getLogger(__name__)

PENDING_GRACE = timedelta(minutes=2)  # the sweep leaves a suspension this young to its own process


def after_commit(action):
    """Called by ``suspend_model`` inside its transaction: the follow-through runs once it commits.
    ``robust``: an error in it is logged, not raised to whoever gave the order (the suspension is
    in force; the sweep finishes what follows it)."""
    transaction.on_commit(lambda: follow_through_suspension(action.pk), robust=True)


@service
def follow_through_suspension(action_id):
    """Do what follows suspension ``action_id`` if it is not done yet; returns the action, or
    ``None`` when there was nothing to do (done already, or not a suspension)."""
    action = (
        EnforcementAction.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor", "frontier_model", "frontier_model__vendor", "taken_by")
        .filter(pk=action_id, kind=Kind.SUSPEND_MODEL, followed_through_at__isnull=True)
        .first()
    )
    if action is None:
        return None
    actor = action.taken_by
    now = timezone.now()
    # the grants it took: suspended by it, unless its lifting has restored them meanwhile
    taken = list(
        Grant.objects.filter(suspended_by=action).order_by("pk").values_list("pk", "partner_customer_id")
    )
    letter = Letter.objects.filter(enforcement_action=action).order_by("pk").first()
    if letter is not None:
        letter = typeset_letter(letter)
    if taken and action.status == EnforcementAction.Status.IN_FORCE:
        ask_cutoff_attestations(action, taken, actor=actor, now=now)
    grants = [pk for pk, _ in taken]
    partner_notices.tell_security_contacts(action=action, grants=grants)
    _tell_everyone(action, letter, grants=action.grants_affected)
    action.followed_through_at = now
    _save(
        action,
        actor=actor,
        reason=f"Followed through: the notice typeset, {_plural(len(taken), 'cut-off attestation')} "
        "asked, the vendor, the officials concerned and the partners' security contacts told.",
        update_fields=["followed_through_at"],
    )
    return action


def _tell_everyone(action, letter, *, grants):
    frontier_model = action.frontier_model
    taking = f" ({action.scope})" if action.scope else ""
    context = {
        "letter_reference": letter.reference if letter else "",
        "model": str(frontier_model),
        "vendor": str(frontier_model.vendor),
        "grants": grants,
        "requests": action.requests_affected,
        "legal_basis": action.legal_basis,
        "findings": action.findings,
        "agency": _agency_code(action),
        "scope": action.scope,
        "attest_by": _when(action.attest_by) if action.attest_by else "",
    }
    subject = f"{frontier_model} pulled offline{taking}: {_plural(grants, 'grant')} suspended"
    _notify_team_and_officials(
        frontier_model.vendor,
        [u for u in _officials_concerned(frontier_model=frontier_model) if u != action.taken_by],
        event="model_suspended",
        subject=subject,
        key=str(action.pk),
        label=f"{letter.reference} · {frontier_model}" if letter else str(frontier_model),
        vendor_link=reverse("enforcement:attest_cutoff", args=[action.pk])
        if grants
        else vendor_model_link(frontier_model),
        official_link=admin_model_link(frontier_model),
        context=context,
        official_key=f"{action.pk}:officials",
        attachment=letter_attachment(letter) if letter else None,
    )


def _agency_code(action):
    from approvals.policies import agency_of

    lead = agency_of(action.taken_by)
    return lead.code if lead else ""


def follow_through_pending(*, now=None):
    """Scheduled: finish every suspension whose follow-through its own process did not (stopped
    between the two transactions). Returns the ids done."""
    now = now or timezone.now()
    pending = EnforcementAction.objects.filter(
        kind=Kind.SUSPEND_MODEL, followed_through_at__isnull=True, taken_at__lt=now - PENDING_GRACE
    ).order_by("pk")
    done = []
    for action_id in pending.values_list("pk", flat=True):
        try:
            if follow_through_suspension(action_id) is not None:
                done.append(action_id)
        except Exception:
            logger.exception("Suspension %s: follow-through failed; tried again next sweep", action_id)
    return done
