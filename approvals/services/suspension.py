"""Pulling a model offline and lifting it: the model, every active grant and every open request at once."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from approvals import policies
from approvals.models import (
    AccessRequest,
    EnforcementAction,
    Grant,
    Referral,
)
from approvals.models.review import refresh_next_due
from approvals.selectors.enforcement import suspension_in_force
from approvals.services import followthrough
from approvals.services._common import (
    ACTIVE_REFERRAL_STATUSES,
    BULK_BATCH,
    Kind,
    Phase,
    _basis,
    _check_expected,
    _clean_text,
    _date,
    _lock_model,
    _person,
    _plural,
    _resume_clocks,
    _save,
    _set_phase,
    _why,
    service,
)
from approvals.services._notify import (
    _notify_team_and_officials,
    _officials_concerned,
    _share_action,
    admin_model_link,
    vendor_model_link,
)
from approvals.services.attestations import MAX_ATTESTATION_HOURS
from approvals.services.confirmation import require_same_records
from approvals.services.grants import _set_grants
from approvals.services.letters import issue_enforcement_letter, letter_attachment
from portal.errors import PortalError
from vendors.models import PartnerCustomer


def _stop_clocks(requests, *, actor, now, reason):
    referrals = list(
        Referral.objects.select_for_update(no_key=True)
        .filter(
            access_request__in=[r.pk for r in requests],
            status__in=ACTIVE_REFERRAL_STATUSES,
            clock_stopped_at__isnull=True,
        )
        .order_by("pk")
    )
    for referral in referrals:
        referral.clock_stopped_at = now
    if referrals:
        bulk_update_with_history(
            referrals,
            Referral,
            ["clock_stopped_at"],
            batch_size=BULK_BATCH,
            default_user=actor,
            default_change_reason=_why(reason),
            default_date=now,
        )
        refresh_next_due(r.access_request_id for r in referrals)


def _bump_requests(requests, fields, *, actor, reason, now):
    for access_request in requests:
        access_request.version += 1
    if requests:
        bulk_update_with_history(
            requests,
            AccessRequest,
            [*fields, "version"],
            batch_size=BULK_BATCH,
            default_user=actor,
            default_change_reason=_why(reason),
            default_date=now,
        )


ATTESTATION_HOURS = 24
SUSPEND_STEPS = 4
LIFT_STEPS = 5


def _stepper(progress, total):
    """A function to call after each step: tells ``progress(done, total)``, if given."""
    done = 0

    def step():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    return step


def attestation_hours():
    """The default hours the vendor has to attest the cut-off (``SUSPENSION_ATTESTATION_HOURS``)."""
    return int(getattr(settings, "SUSPENSION_ATTESTATION_HOURS", ATTESTATION_HOURS))


def _chosen_customers(frontier_model, partner_customers):
    """The customer ids a suspension of chosen customers takes; ``None`` for the whole model."""
    if partner_customers is None:
        return None
    ids = {getattr(c, "pk", c) for c in partner_customers}
    if not ids:
        raise PortalError("Choose at least one customer to suspend.", field="customers")
    found = set(
        PartnerCustomer.objects.filter(pk__in=ids, vendor_id=frontier_model.vendor_id).values_list(
            "pk", flat=True
        )
    )
    if found != ids:
        raise PortalError(f"Choose customers of {frontier_model.vendor} only.", field="customers")
    return found


@service
def suspend_model(
    *,
    frontier_model,
    actor,
    legal_basis,
    findings,
    partner_customers=None,
    scope="",
    attest_within_hours=None,
    shown=None,
    expected_grants=None,
    expected_requests=None,
    progress=None,
):
    """Pull a model offline: the model and every active grant for it become suspended, its open
    requests are put on hold (their clocks stop), and everyone concerned is told — at once.

    With ``partner_customers`` it takes only those customers' grants and open requests (``scope``
    says which, e.g. "the 2 customers in the energy sector"); the model's phase stays. Either way
    the vendor is asked to attest, within ``attest_within_hours`` (default 24), that access was cut
    off for each customer whose grant was suspended.

    ``shown`` is ``{"grants": ids, "requests": ids}`` as the confirmation page showed them (and
    ``expected_grants``/``expected_requests`` the figures, for older callers); if they no longer
    hold, nothing is done.

    ``progress``, if given, is called as ``progress(done, total)`` after each of its steps (checks,
    grants, attestations, requests, letter, notices), inside the transaction. The grants and their
    history are written set-based (``_set_grants``), whatever their number.
    """
    step = _stepper(progress, SUSPEND_STEPS)
    customers = _chosen_customers(frontier_model, partner_customers)
    requests_query = AccessRequest.objects.select_for_update(of=("self",), no_key=True).filter(
        frontier_model=frontier_model, status__in=AccessRequest.OPEN_STATUSES, on_hold=False
    )
    if customers is not None:
        requests_query = requests_query.filter(partner_customer_id__in=customers)
    open_requests = list(requests_query.order_by("pk"))
    frontier_model = _lock_model(frontier_model)
    policies.require_suspend_model(actor, frontier_model)
    lead = policies.agency_of(actor)
    legal_basis, findings = _basis(legal_basis, findings)
    hours = attestation_hours() if attest_within_hours in (None, "") else int(attest_within_hours)
    if not 1 <= hours <= MAX_ATTESTATION_HOURS:
        raise PortalError(
            f"Give the vendor between 1 and {MAX_ATTESTATION_HOURS} hours to attest.",
            field="attest_within_hours",
        )
    # ids only, locked: ten thousand grants are changed in the database, not loaded as objects
    grants_query = Grant.objects.select_for_update(no_key=True).filter(
        frontier_model=frontier_model, status=Grant.Status.ACTIVE
    )
    if customers is not None:
        grants_query = grants_query.filter(partner_customer_id__in=customers)
    taken = list(grants_query.order_by("pk").values_list("pk", "partner_customer_id"))
    grants = [pk for pk, _ in taken]
    require_same_records(shown, {"grants": grants, "requests": [r.pk for r in open_requests]})
    _check_expected(expected_grants, len(grants), "active grants")
    _check_expected(expected_requests, len(open_requests), "open requests")
    if customers is not None and not grants and not open_requests:
        raise PortalError(
            "The customers chosen hold no active grant and no open request for the model: there is "
            "nothing to suspend."
        )
    step()  # checked
    scope = (_clean_text(scope) or f"{_plural(len(customers), 'chosen customer')}")[:200] if customers else ""
    now = timezone.now()
    taking = f" ({scope})" if scope else ""
    action = _save(
        EnforcementAction(
            kind=Kind.SUSPEND_MODEL,
            vendor=frontier_model.vendor,
            frontier_model=frontier_model,
            legal_basis=legal_basis,
            findings=findings,
            taken_by=actor,
            taken_at=now,
            phase_before=frontier_model.release_phase,
            grants_affected=len(grants),
            requests_affected=len(open_requests),
            scope=scope,
            attest_by=now + timedelta(hours=hours) if grants else None,
        ),
        actor=actor,
        reason=f"Model pulled offline{taking} by {_person(actor)} ({lead.code}): "
        f"{_plural(len(grants), 'grant')} suspended, {_plural(len(open_requests), 'request')} put on hold.",
    )
    if customers is not None:
        action._change_reason = f"The customers the suspension covers{taking}."
        action.partner_customers.set(sorted(customers))
    if not scope:
        _set_phase(
            frontier_model,
            Phase.SUSPENDED,
            actor=actor,
            reason=f"Suspended (pulled offline) by {lead.code}, action #{action.pk}: {legal_basis}",
        )
    _set_grants(
        grants,
        {
            "status": Grant.Status.SUSPENDED,
            "status_changed_at": now,
            "status_reason": f"Suspended: {frontier_model} was pulled offline{taking} by {lead.code} on "
            f"{_date(timezone.localdate(now))}. {legal_basis}",
            "suspended_by": action,
        },
        actor=actor,
        now=now,
        reason=f"Suspended with the model{taking} by {lead.code}, action #{action.pk}: {legal_basis}",
    )
    step()  # grants suspended
    for access_request in open_requests:
        access_request.on_hold = True
        access_request.held_by = action
    _bump_requests(
        open_requests,
        ["on_hold", "held_by"],
        actor=actor,
        now=now,
        reason=f"On hold: {frontier_model} was pulled offline{taking} by {lead.code}; "
        "no decision until lifted.",
    )
    _stop_clocks(
        open_requests,
        actor=actor,
        now=now,
        reason=f"Clock stopped: the request is on hold while {frontier_model} is suspended.",
    )
    step()  # requests held
    _share_action(action)
    issue_enforcement_letter(action, typeset=False)  # its PDF comes with the follow-through
    step()  # notice issued
    # the PDF, the attestations and the mail after commit, without the grants' locks
    followthrough.after_commit(action)
    return action


@service
def lift_suspension(
    *, frontier_model, actor, legal_basis, findings, shown=None, expected_grants=None, progress=None
):
    """Lift the suspension in force: the model returns to its phase before it (a suspension of
    chosen customers never changed it); grants it suspended that nothing else has ended since
    become active again (or expired, if their term ran out meanwhile); requests it put on hold
    resume with their stopped days added back. ``shown``: ``{"grants", "lapsing", "requests"}`` ids
    as the confirmation page showed them. ``progress``: as for ``suspend_model`` (checks, grants,
    requests, letter, notices); the grants are restored set-based, by id, never loaded as objects."""
    step = _stepper(progress, LIFT_STEPS)
    suspension = suspension_in_force(frontier_model)
    held = []
    if suspension is not None:
        held = list(
            AccessRequest.objects.select_for_update(of=("self",), no_key=True)
            .filter(held_by=suspension, on_hold=True)
            .order_by("pk")
        )
    frontier_model = _lock_model(frontier_model)
    suspension = suspension_in_force(frontier_model, lock=True)
    policies.require_lift_suspension(actor, frontier_model)
    lead = policies.agency_of(actor)
    legal_basis, findings = _basis(legal_basis, findings)
    # ids and end dates only, locked: the grants are changed in the database, not loaded as objects
    grants = list(
        Grant.objects.select_for_update(no_key=True)
        .filter(suspended_by=suspension, status=Grant.Status.SUSPENDED)
        .order_by("pk")
        .values_list("pk", "valid_to")
    )
    now = timezone.now()
    today = timezone.localdate(now)
    restored = [pk for pk, valid_to in grants if valid_to >= today]
    lapsed = [pk for pk, valid_to in grants if valid_to < today]
    require_same_records(
        shown,
        {"grants": restored, "lapsing": lapsed, "requests": [r.pk for r in held]},
    )
    _check_expected(expected_grants, len(restored), "grants to restore")
    step()  # checked
    lift = _save(
        EnforcementAction(
            kind=Kind.LIFT_SUSPENSION,
            status=EnforcementAction.Status.DONE,
            vendor=frontier_model.vendor,
            frontier_model=frontier_model,
            reverses=suspension,
            legal_basis=legal_basis,
            findings=findings,
            taken_by=actor,
            taken_at=now,
            grants_affected=len(restored),
            requests_affected=len(held),
            scope=suspension.scope,
        ),
        actor=actor,
        reason=f"Suspension lifted by {_person(actor)} ({lead.code}): "
        f"{_plural(len(restored), 'grant')} restored.",
    )
    suspension.status = EnforcementAction.Status.LIFTED
    _save(
        suspension, actor=actor, reason=f"Lifted by {_person(actor)} ({lead.code}).", update_fields=["status"]
    )
    phase_before = Phase(suspension.phase_before or Phase.LIMITED_PREVIEW)
    if suspension.takes_whole_model:
        _set_phase(
            frontier_model,
            phase_before,
            actor=actor,
            reason=f"Suspension #{suspension.pk} lifted by {lead.code}, action #{lift.pk}: {legal_basis}",
        )
    else:
        phase_before = Phase(frontier_model.release_phase)
    _set_grants(
        restored,
        {
            "status": Grant.Status.ACTIVE,
            "status_changed_at": now,
            "status_reason": f"Restored: the suspension of {frontier_model} was lifted on {_date(today)}.",
        },
        actor=actor,
        now=now,
        reason=f"Restored: the suspension of {frontier_model} was lifted by {lead.code}, action #{lift.pk}.",
    )
    _set_grants(
        lapsed,
        {
            "status": Grant.Status.EXPIRED,
            "status_changed_at": now,
            "status_reason": "Expired while suspended: its term ended before the suspension was lifted.",
        },
        actor=actor,
        now=now,
        reason="Expired while suspended: its term ended before the suspension was lifted.",
    )
    step()  # grants restored
    for access_request in held:
        access_request.on_hold = False
    _bump_requests(
        held,
        ["on_hold"],
        actor=actor,
        now=now,
        reason=f"Hold lifted: the suspension of {frontier_model} was lifted; the review resumes.",
    )
    _resume_clocks(held, actor=actor, now=now)
    step()  # requests resumed
    _share_action(lift)
    letter = issue_enforcement_letter(lift)
    step()  # letter issued
    context = {
        "letter_reference": letter.reference,
        "model": str(frontier_model),
        "vendor": str(frontier_model.vendor),
        "grants": len(restored),
        "expired": len(lapsed),
        "requests": len(held),
        "legal_basis": legal_basis,
        "findings": findings,
        "agency": lead.code,
        "phase": phase_before.label.lower(),
    }
    subject = f"Suspension of {frontier_model} lifted: {_plural(len(restored), 'grant')} restored"
    _notify_team_and_officials(
        frontier_model.vendor,
        [u for u in _officials_concerned(frontier_model=frontier_model) if u != actor],
        event="model_suspension_lifted",
        subject=subject,
        key=str(lift.pk),
        label=str(frontier_model),
        vendor_link=vendor_model_link(frontier_model),
        official_link=admin_model_link(frontier_model),
        context=context,
        official_key=f"{lift.pk}:officials",
        attachment=letter_attachment(letter),
    )
    step()  # everyone told
    return lift
