"""Designating a vendor a supply-chain risk, its answer, and the rescission."""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from approvals import policies
from approvals.models import (
    AccessRequest,
    EnforcementAction,
    Referral,
)
from approvals.selectors.enforcement import referrals_from_designation
from approvals.selectors.routing import designation_referrals
from approvals.services._common import (
    Kind,
    _basis,
    _check_expected,
    _clean_text,
    _date,
    _person,
    _save,
    _why,
    service,
)
from approvals.services._notify import (
    _lead_approvers,
    _notify_people,
    _notify_team_and_officials,
    _officials_concerned,
    _share_action,
    admin_action_link,
)
from approvals.services.confirmation import require_same_records
from approvals.services.letters import issue_enforcement_letter, letter_attachment
from approvals.services.routing import _add_referral
from portal.audit.history import save_with_history
from portal.errors import PortalError
from vendors.models import Vendor

DESIGNATION_RESPONSE_DAYS = 30


def designation_response_days():
    return int(getattr(settings, "DESIGNATION_RESPONSE_DAYS", DESIGNATION_RESPONSE_DAYS))


@service
def designate_supply_chain_risk(*, vendor, actor, legal_basis, findings, shown=None, expected_requests=None):
    """Designate a vendor a supply-chain risk: written findings and legal basis, notice to the vendor
    with a window to answer (30 days by default), and the extra DOD referral on its open requests.

    ``shown``: ``{"requests": ids}``, the open requests the confirmation page said get the referral."""
    # The vendor first, then its open requests: a submission holds the vendor row while it
    # routes, so a request submitted meanwhile is committed (and found below) before we read.
    vendor = Vendor.objects.select_for_update(no_key=True).get(pk=vendor.pk)
    open_requests = list(
        AccessRequest.objects.select_for_update(of=("self",), no_key=True)
        .filter(vendor=vendor, status__in=AccessRequest.OPEN_STATUSES)
        .select_related("vendor", "frontier_model", "partner_customer")
        .order_by("pk")
    )
    policies.require_designate_vendor(actor, vendor)
    lead = policies.agency_of(actor)
    legal_basis, findings = _basis(legal_basis, findings)
    additions = designation_referrals(open_requests)
    requests_changed = {r.pk for r, _, _, _ in additions}
    require_same_records(shown, {"requests": requests_changed})
    _check_expected(expected_requests, len(requests_changed), "open requests to refer")
    now = timezone.now()
    respond_by = timezone.localdate(now) + timedelta(days=designation_response_days())
    action = _save(
        EnforcementAction(
            kind=Kind.DESIGNATE_VENDOR,
            vendor=vendor,
            legal_basis=legal_basis,
            findings=findings,
            taken_by=actor,
            taken_at=now,
            respond_by=respond_by,
            requests_affected=len(requests_changed),
        ),
        actor=actor,
        reason=f"{vendor} designated a supply-chain risk by {_person(actor)} ({lead.code}); "
        f"the vendor may answer by {_date(respond_by)}.",
    )
    vendor.status = Vendor.Status.SUPPLY_CHAIN_RISK
    vendor.designated_at = now
    vendor.designated_by = actor
    vendor.designation_legal_basis = legal_basis
    save_with_history(
        vendor,
        actor=actor,
        reason=_why(f"Designated a supply-chain risk by {lead.code}, action #{action.pk}: {legal_basis}"),
        update_fields=["status", "designated_at", "designated_by", "designation_legal_basis"],
    )
    for access_request, agency, required, routing_reason in additions:
        access_request.vendor = vendor
        _add_referral(
            access_request,
            agency,
            required=required,
            routing_reason=routing_reason,
            actor=actor,
            now=now,
            why=f"{vendor} was designated a supply-chain risk.",
        )
    _share_action(action)
    letter = issue_enforcement_letter(action)
    context = {
        "letter_reference": letter.reference,
        "vendor": str(vendor),
        "legal_basis": legal_basis,
        "findings": findings,
        "respond_by": _date(respond_by),
        "requests": len(requests_changed),
        "agency": lead.code,
    }
    subject = f"{vendor} designated a supply-chain risk: answer by {_date(respond_by)}"
    _notify_team_and_officials(
        vendor,
        [u for u in _officials_concerned(vendor=vendor) if u != actor],
        event="vendor_designated",
        subject=subject,
        key=str(action.pk),
        label=str(vendor),
        vendor_link=reverse("enforcement:designation"),
        official_link=admin_action_link(action),
        context=context,
        official_key=f"{action.pk}:officials",
        attachment=letter_attachment(letter),
        official_subject=f"{vendor} designated a supply-chain risk",
    )
    return action


@service
def respond_to_designation(*, action, actor, response):
    """The vendor answers its designation within the window."""
    action = (
        EnforcementAction.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor")
        .get(pk=action.pk)
    )
    policies.require_respond_to_designation(actor, action)
    response = _clean_text(response)
    if not response:
        raise PortalError("Write your answer to the findings.", field="response")
    action.vendor_response = response
    action.responded_by = actor
    action.responded_at = timezone.now()
    _save(
        action,
        actor=actor,
        reason=f"The vendor answered, by {_person(actor)}.",
        update_fields=["vendor_response", "responded_by", "responded_at"],
    )
    _notify_people(
        _lead_approvers(),
        event="designation_response",
        subject=f"{action.vendor} answered its designation as a supply-chain risk",
        key=str(action.pk),
        link=admin_action_link(action),
        label=str(action.vendor),
        context={"vendor": str(action.vendor), "response": response},
    )
    return action


@service
def rescind_designation(*, vendor, actor, legal_basis, findings, close_referrals=False, shown=None):
    """Rescind a vendor's designation. The referrals it caused (``referrals_from_designation``)
    stay open unless the lead asks to close them with it (``close_referrals``): a routing change
    never silently alters referrals under way, so closing them is the lead's explicit choice.
    ``shown``: ``{"referrals": ids}`` as the confirmation page listed them."""
    vendor = Vendor.objects.select_for_update(no_key=True).get(pk=vendor.pk)
    policies.require_rescind_designation(actor, vendor)
    lead = policies.agency_of(actor)
    legal_basis, findings = _basis(legal_basis, findings)
    designation = (
        EnforcementAction.objects.select_for_update(no_key=True)
        .filter(vendor=vendor, kind=Kind.DESIGNATE_VENDOR, status=EnforcementAction.Status.IN_FORCE)
        .first()
    )
    open_referrals = referrals_from_designation(designation)
    require_same_records(shown, {"referrals": [r.pk for r in open_referrals]})
    now = timezone.now()
    action = _save(
        EnforcementAction(
            kind=Kind.RESCIND_DESIGNATION,
            status=EnforcementAction.Status.DONE,
            vendor=vendor,
            reverses=designation,
            legal_basis=legal_basis,
            findings=findings,
            taken_by=actor,
            taken_at=now,
        ),
        actor=actor,
        reason=f"Designation of {vendor} rescinded by {_person(actor)} ({lead.code}).",
    )
    if close_referrals:
        for referral in open_referrals:
            referral = Referral.objects.select_for_update(no_key=True).get(pk=referral.pk)
            if referral.status not in (Referral.Status.OPEN, Referral.Status.DRAFTED):
                continue
            referral.status = Referral.Status.CLOSED
            _save(
                referral,
                actor=actor,
                reason=f"Closed with the rescission of {vendor}'s designation by {_person(actor)} "
                f"({lead.code}), action #{action.pk}.",
                update_fields=["status"],
            )
    if designation is not None:
        designation.status = EnforcementAction.Status.RESCINDED
        _save(
            designation,
            actor=actor,
            reason=f"Rescinded by {_person(actor)} ({lead.code}).",
            update_fields=["status"],
        )
    vendor.status = Vendor.Status.ACTIVE
    vendor.designated_at = None
    vendor.designated_by = None
    vendor.designation_legal_basis = ""
    save_with_history(
        vendor,
        actor=actor,
        reason=_why(f"Designation rescinded by {lead.code}, action #{action.pk}: {legal_basis}"),
        update_fields=["status", "designated_at", "designated_by", "designation_legal_basis"],
    )
    _share_action(action)
    letter = issue_enforcement_letter(action)
    context = {
        "vendor": str(vendor),
        "legal_basis": legal_basis,
        "findings": findings,
        "agency": lead.code,
        "letter_reference": letter.reference,
    }
    _notify_team_and_officials(
        vendor,
        [u for u in _officials_concerned(vendor=vendor) if u != actor],
        event="vendor_designation_rescinded",
        subject=f"Designation of {vendor} as a supply-chain risk rescinded",
        key=str(action.pk),
        label=str(vendor),
        vendor_link=reverse("enforcement:designation"),
        official_link=admin_action_link(action),
        context=context,
        official_key=f"{action.pk}:officials",
        attachment=letter_attachment(letter),
    )
    return action
