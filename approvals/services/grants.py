"""The grant lifecycle after its approval: expiry, revocation, renewal."""

from django.utils import timezone

from approvals import policies
from approvals.events import announce
from approvals.models import (
    EnforcementAction,
    Grant,
    RequestDocument,
)
from approvals.services import partner_notices
from approvals.services._common import (
    Kind,
    _basis,
    _date,
    _person,
    _save,
    _save_request,
    _why,
    service,
)
from approvals.services._notify import (
    _notify_vendor_and_officials,
    _referred_officials,
    _share_action,
)
from approvals.services.letters import issue_enforcement_letter, letter_attachment
from approvals.services.requests import create_draft_request
from portal.audit.bulk import copy_to_history, update_by_ids


@service
def _expire_grant(grant_pk, *, actor, today):
    grant = Grant.objects.select_for_update().get(pk=grant_pk)
    if grant.status != Grant.Status.ACTIVE or grant.valid_to >= today:
        return False
    grant.status = Grant.Status.EXPIRED
    grant.status_changed_at = timezone.now()
    grant.status_reason = f"Expired: valid until {_date(grant.valid_to)}."
    _save(
        grant,
        actor=actor,
        reason=grant.status_reason,
        update_fields=["status", "status_changed_at", "status_reason"],
    )
    announce(grant.vendor, event="grant_expired", key=grant.pk, grant=grant)
    return True


def expire_lapsed_grants(*, today=None):
    """Scheduled daily: an active grant whose last valid day has passed becomes expired."""
    from portal.accounts.services import system_user

    today = today or timezone.localdate()
    actor = system_user()
    lapsed = Grant.objects.filter(status=Grant.Status.ACTIVE, valid_to__lt=today).values_list("pk", flat=True)
    return sum(1 for pk in list(lapsed) if _expire_grant(pk, actor=actor, today=today))


def _set_grants(grants, values, *, actor, now, reason):
    """Give every grant in ``grants`` (objects, or ids) the same ``values`` and one history row
    each (actor, reason).

    Set-based: one ``UPDATE … WHERE id = ANY(…)``, then one ``INSERT … SELECT`` of their history
    rows, chained by the database (``portal.audit.bulk.copy_to_history``). Loading the grants as
    objects and chaining their history rows one by one in Python took most of a ten-thousand-grant
    suspension's time.
    """
    if not grants:
        return
    for grant in grants:
        if isinstance(grant, Grant):  # ids alone (a model's suspension) need no objects updated
            for field, value in values.items():
                setattr(grant, field, value)
    pks = [getattr(grant, "pk", grant) for grant in grants]
    update_by_ids(Grant, pks, values)
    # (the UPDATE holds their row locks, under which their history rows are chained)
    copy_to_history(Grant, pks, history_type="~", actor=actor, reason=_why(reason), when=now, locked=True)


@service
def _resolve_facts_changes(grant, *, actor, now, resolution):
    """A revocation is the lead agency acting on facts changed since approval: the grant's
    pending ``GrantFactsChange`` rows are resolved by it."""
    from approvals.models import GrantFactsChange

    for change in GrantFactsChange.objects.select_for_update().filter(
        grant=grant, status=GrantFactsChange.Status.PENDING
    ):
        change.status = GrantFactsChange.Status.REVOKED
        change.resolved_by, change.resolved_at, change.resolution = actor, now, resolution
        _save(
            change,
            actor=actor,
            reason=resolution,
            update_fields=["status", "resolved_by", "resolved_at", "resolution"],
        )


@service
def revoke_grant(*, grant, actor, legal_basis, findings):
    """Revoke one grant, immediately and for good (an active or suspended one)."""
    grant = (
        Grant.objects.select_for_update(of=("self",), no_key=True)
        .select_related("access_request", "vendor", "frontier_model", "partner_customer")
        .get(pk=grant.pk)
    )
    policies.require_revoke_grant(actor, grant)
    lead = policies.agency_of(actor)
    legal_basis, findings = _basis(legal_basis, findings)
    now = timezone.now()
    action = _save(
        EnforcementAction(
            kind=Kind.REVOKE_GRANT,
            status=EnforcementAction.Status.DONE,
            vendor=grant.vendor,
            frontier_model=grant.frontier_model,
            grant=grant,
            legal_basis=legal_basis,
            findings=findings,
            taken_by=actor,
            taken_at=now,
            grants_affected=1,
        ),
        actor=actor,
        reason=f"Grant of {grant.access_request} revoked by {_person(actor)} ({lead.code}).",
    )
    grant.status = Grant.Status.REVOKED
    grant.status_changed_at = now
    grant.status_reason = f"Revoked by {lead.code} on {_date(timezone.localdate(now))}: {legal_basis}"
    _save(
        grant,
        actor=actor,
        reason=f"Revoked by {lead.code}, action #{action.pk}: {legal_basis}",
        update_fields=["status", "status_changed_at", "status_reason"],
    )
    _share_action(action)
    _resolve_facts_changes(grant, actor=actor, now=now, resolution=f"Grant revoked, action #{action.pk}.")
    partner_notices.tell_security_contacts(action=action, grants=[grant])
    access_request = grant.access_request
    letter = issue_enforcement_letter(action)
    context = {
        "letter_reference": letter.reference,
        "tracking_number": str(access_request),
        "customer": str(grant.partner_customer),
        "model": str(grant.frontier_model),
        "legal_basis": legal_basis,
        "findings": findings,
        "agency": lead.code,
    }
    subject = f"Grant revoked: {grant.partner_customer} for {grant.frontier_model}"
    _notify_vendor_and_officials(
        access_request,
        [u for u in _referred_officials(access_request) if u != actor],
        event="grant_revoked",
        subject=subject,
        key=str(action.pk),
        context=context,
        official_key=f"{action.pk}:officials",
        attachment=letter_attachment(letter),
    )
    return action


RENEWAL_CLOSED_STATUSES = policies.RENEWAL_CLOSED_STATUSES


@service
def request_grant_renewal(*, grant, actor):
    """Open a draft request to renew ``grant``: pre-filled from the request that led to it and linked
    to it (``renewal_of``), with its documents carried over. The vendor checks it, removes what no
    longer applies, attaches current documents and submits it."""
    grant = (
        Grant.objects.select_for_update(of=("self",), no_key=True)
        .select_related("access_request", "vendor", "frontier_model", "partner_customer")
        .get(pk=grant.pk)
    )
    policies.require_renew_grant(actor, grant)
    original = grant.access_request
    access_request = create_draft_request(
        actor=actor,
        frontier_model=grant.frontier_model,
        partner_customer=grant.partner_customer,
        use_case=original.use_case,
        scope=original.scope,
        requested_duration_days=original.requested_duration_days,
    )
    access_request.renewal_of = grant
    _save_request(
        access_request,
        actor=actor,
        reason=_why(
            f"Renewal of the grant from {original} ({grant.get_status_display().lower()}, valid until "
            f"{_date(grant.valid_to)}), pre-filled from it."
        ),
        update_fields=["renewal_of"],
    )
    _copy_documents(original, access_request, actor=actor)
    return access_request


def _copy_documents(original, renewal, *, actor):
    """The original request's documents, as references to the same stored files (a file is never
    deleted with its row, so removing a copy from the draft leaves the original intact), answers to
    questions included; the officer removes what no longer applies."""
    for document in original.documents.order_by("uploaded_at", "pk"):
        _save(
            RequestDocument(
                access_request=renewal,
                title=document.title,
                file=document.file.name,
                original_filename=document.original_filename,
                content_type=document.content_type,
                size_bytes=document.size_bytes,
                sha256=document.sha256,
                uploaded_by=actor,
            ),
            actor=actor,
            reason=f"Document “{document.title}” carried over from {original} for the renewal; "
            "remove it if it no longer applies.",
        )
