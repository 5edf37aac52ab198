"""Pre-release review of a frontier model: submission, findings, clearance."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import policies
from approvals.models import (
    PrereleaseReview,
    ReviewFinding,
)
from approvals.policies import REVIEW_ROLES, agency_of
from approvals.services._common import (
    Phase,
    _clean_cap,
    _clean_text,
    _lock_model,
    _person,
    _plural,
    _save,
    _set_phase,
    service,
)
from approvals.services._notify import (
    _lead_approvers,
    _notify_people,
    _share_with_agencies,
    admin_model_link,
    vendor_compliance_team,
    vendor_model_link,
)
from portal import permissions
from portal.accounts.models import User
from portal.errors import PortalError


@service
def submit_for_prerelease_review(*, frontier_model, actor, summary):
    """The vendor submits a frontier model, with its evidence, for the agencies' review.

    From ``registered`` the model goes ``in_review``; from ``limited_preview`` it asks for
    general availability and stays in preview while the agencies review it.
    """
    frontier_model = _lock_model(frontier_model)
    vendor = frontier_model.vendor
    policies.require_submit_for_prerelease_review(actor, frontier_model)
    phase = frontier_model.release_phase
    evidence = list(frontier_model.evidence_documents.order_by("pk"))
    problems = []
    if not evidence:
        problems.append(
            (
                None,
                "Attach the model's evidence first (model card, evaluation and red-team reports) on its "
                "page.",
            )
        )
    summary = _clean_text(summary)
    if not summary:
        problems.append(("summary", "Summarise the evidence for the agencies: what was evaluated and found."))
    if problems:
        first = next((p for p in problems if p[0]), problems[0])
        raise PortalError(first[1], field=first[0], messages=[m for _, m in problems])
    review = PrereleaseReview(
        vendor=vendor,
        frontier_model=frontier_model,
        phase_at_submission=phase,
        summary=summary,
        submitted_by=actor,
    )
    goal = "general availability" if phase == Phase.LIMITED_PREVIEW else "release"
    try:
        with transaction.atomic():
            _save(
                review, actor=actor, reason=f"Submitted for pre-release review ({goal}) by {_person(actor)}."
            )
    except IntegrityError:
        raise PortalError(f"{frontier_model} is already under pre-release review.") from None
    review.evidence.set(evidence)
    if phase == Phase.REGISTERED:
        _set_phase(
            frontier_model,
            Phase.IN_REVIEW,
            actor=actor,
            reason=f"Submitted for pre-release review by {_person(actor)} with "
            f"{_plural(len(evidence), 'evidence document')}.",
        )
    permissions.grant("view", vendor.members_group, review)
    _share_with_agencies(review, also=[frontier_model])
    officials = list(
        User.objects.filter(organisation__agency__isnull=False, role__in=REVIEW_ROLES, is_active=True)
    )
    _notify_people(
        officials,
        event="prerelease_review_submitted",
        subject=f"Pre-release review ({goal}): {frontier_model} by {vendor}",
        key=str(review.pk),
        link=admin_model_link(frontier_model),
        label=str(frontier_model),
        context={"model": str(frontier_model), "vendor": str(vendor), "goal": goal, "summary": summary},
    )
    return review


def _open_review(frontier_model):
    return (
        PrereleaseReview.objects.select_for_update(no_key=True)
        .filter(frontier_model=frontier_model, status=PrereleaseReview.Status.IN_REVIEW)
        .first()
    )


@service
def record_review_finding(*, review, actor, text, recommendation=ReviewFinding.Recommendation.NONE):
    """An agency official records a finding in an open pre-release review (agency-side only)."""
    review = (
        PrereleaseReview.objects.select_for_update(no_key=True)
        .select_related("frontier_model")
        .get(pk=review.pk)
    )
    policies.require_record_review_finding(actor, review)
    text = _clean_text(text)
    if not text:
        raise PortalError("Write the finding.", field="text")
    if recommendation not in ReviewFinding.Recommendation.values:
        raise PortalError("Choose what the agency recommends.", field="recommendation")
    agency = agency_of(actor)
    finding = _save(
        ReviewFinding(
            review=review, agency=agency, text=text, recommendation=recommendation, recorded_by=actor
        ),
        actor=actor,
        reason=f"Finding recorded by {_person(actor)} ({agency.code}): "
        f"{ReviewFinding.Recommendation(recommendation).label.lower()}.",
    )
    _notify_people(
        [u for u in _lead_approvers() if u != actor],
        event="prerelease_finding_recorded",
        subject=f"{agency.code} finding on {review.frontier_model}",
        key=str(finding.pk),
        link=admin_model_link(review.frontier_model),
        label=str(review.frontier_model),
        context={
            "model": str(review.frontier_model),
            "agency": agency.code,
            "recommendation": finding.get_recommendation_display(),
        },
    )
    return finding


def _decide_review(frontier_model, *, actor, require, basis):
    """Lock the model and its open review for a clearance decision by the lead agency."""
    frontier_model = _lock_model(frontier_model)
    review = _open_review(frontier_model)
    require(actor, frontier_model)
    basis = _clean_text(basis)
    if not basis:
        raise PortalError(
            "Write the basis for the decision; it is kept with the model's history.", field="basis"
        )
    return frontier_model, review, basis


def _close_review(review, status, *, actor, basis, reason, cap=None):
    review.status = status
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.basis = basis
    review.preview_customer_cap = cap
    return _save(review, actor=actor, reason=reason)


def _notify_clearance(review, *, event, subject, context):
    frontier_model = review.frontier_model
    _notify_people(
        vendor_compliance_team(frontier_model.vendor),
        event=event,
        subject=subject,
        key=str(review.pk),
        link=vendor_model_link(frontier_model),
        label=str(frontier_model),
        context={"model": str(frontier_model), **context},
    )
    officials = [
        u
        for u in User.objects.filter(
            organisation__agency__review_findings__review=review, is_active=True
        ).distinct()
        if u.role in REVIEW_ROLES
    ]
    _notify_people(
        officials,
        event=event,
        subject=subject,
        key=f"{review.pk}:officials",
        link=admin_model_link(frontier_model),
        label=str(frontier_model),
        context={"model": str(frontier_model), **context},
    )


@service
def clear_for_limited_preview(*, frontier_model, actor, basis, preview_customer_cap=None):
    """Clear a model under review for limited preview, optionally capping its partner customers."""
    frontier_model, review, basis = _decide_review(
        frontier_model,
        actor=actor,
        require=policies.require_clear_for_limited_preview,
        basis=basis,
    )
    cap = _clean_cap(preview_customer_cap)
    lead = agency_of(actor)
    cap_text = f", at most {_plural(cap, 'partner customer')}" if cap else ""
    _close_review(
        review,
        PrereleaseReview.Status.CLEARED_LIMITED_PREVIEW,
        actor=actor,
        basis=basis,
        cap=cap,
        reason=f"Cleared for limited preview{cap_text} by {_person(actor)} ({lead.code}).",
    )
    _set_phase(
        frontier_model,
        Phase.LIMITED_PREVIEW,
        actor=actor,
        cap=cap,
        reason=f"Cleared for limited preview{cap_text} by {lead.code} (review #{review.pk}): {basis}",
    )
    _notify_clearance(
        review,
        event="model_cleared",
        subject=f"{frontier_model} cleared for limited preview",
        context={"phase": "limited preview", "basis": basis, "cap": cap or ""},
    )
    return review


@service
def clear_for_general_availability(*, frontier_model, actor, basis):
    """Clear a model under review (or in limited preview, asking for it) for general availability."""
    frontier_model, review, basis = _decide_review(
        frontier_model,
        actor=actor,
        require=policies.require_clear_for_general_availability,
        basis=basis,
    )
    lead = agency_of(actor)
    _close_review(
        review,
        PrereleaseReview.Status.CLEARED_GENERAL_AVAILABILITY,
        actor=actor,
        basis=basis,
        reason=f"Cleared for general availability by {_person(actor)} ({lead.code}).",
    )
    _set_phase(
        frontier_model,
        Phase.GENERAL_AVAILABILITY,
        actor=actor,
        reason=f"Cleared for general availability by {lead.code} (review #{review.pk}): {basis}",
    )
    _notify_clearance(
        review,
        event="model_cleared",
        subject=f"{frontier_model} cleared for general availability",
        context={"phase": "general availability", "basis": basis, "cap": ""},
    )
    return review


@service
def decline_clearance(*, frontier_model, actor, basis):
    """Do not clear: a model under review goes back to registered; one in preview stays in it."""
    frontier_model, review, basis = _decide_review(
        frontier_model,
        actor=actor,
        require=policies.require_decline_clearance,
        basis=basis,
    )
    lead = agency_of(actor)
    _close_review(
        review,
        PrereleaseReview.Status.NOT_CLEARED,
        actor=actor,
        basis=basis,
        reason=f"Not cleared by {_person(actor)} ({lead.code}).",
    )
    if frontier_model.release_phase == Phase.IN_REVIEW:
        _set_phase(
            frontier_model,
            Phase.REGISTERED,
            actor=actor,
            reason=f"Not cleared by {lead.code} (review #{review.pk}): {basis}",
        )
    _notify_clearance(
        review,
        event="model_not_cleared",
        subject=f"{frontier_model} not cleared",
        context={"basis": basis, "phase": frontier_model.get_release_phase_display()},
    )
    return review
