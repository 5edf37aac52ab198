"""Release phases of the demo world's models, reached through the pre-release review services.

The registry's demo (``vendors/demo.py``) registers every model; each spec there names the phase
the model is meant to be in. Here the vendor's compliance admin submits the models meant for
limited preview or general availability for review (with their evidence), DOC and ONCD record
findings, and DOC's approver clears them, more than a year before the demo's requests are filed. Atlas 3.0,
meant to be *under* review, is submitted by the enforcement demo (``prerelease_review``), which
also records its open findings. Safe to run twice: a model already past ``registered`` is left alone.
"""

from approvals import services
from approvals.demo.requests import _travel
from approvals.models import PrereleaseReview, ReviewFinding
from portal.accounts.models import User
from vendors.demo import VENDORS
from vendors.models import FrontierModel, Vendor

Phase = FrontierModel.ReleasePhase
CLEARED = (Phase.LIMITED_PREVIEW, Phase.GENERAL_AVAILABILITY)


def seed_release_phases():
    """Take each demo model meant for preview or general availability through its review."""
    people = {u.email: u for u in User.objects.filter(email__endswith=".example")}
    reviewer, doc_approver = people.get("reviewer@doc.example"), people.get("approver@doc.example")
    oncd_approver = people.get("approver@oncd.example")
    if not (reviewer and doc_approver and oncd_approver):
        return
    for organisation_name, spec in VENDORS.items():
        vendor = Vendor.objects.filter(organisation__name=organisation_name).first()
        vendor_admin = people.get(spec["admin"])
        if vendor is None or vendor_admin is None:
            continue
        for model_spec in spec["models"]:
            if model_spec["phase"] not in CLEARED:
                continue
            frontier_model = FrontierModel.objects.filter(
                vendor=vendor, name=model_spec["name"], version=model_spec["version"]
            ).first()
            if frontier_model is None or frontier_model.release_phase != Phase.REGISTERED:
                continue
            if PrereleaseReview.objects.filter(frontier_model=frontier_model).exists():
                continue
            _review_and_clear(
                frontier_model,
                model_spec,
                vendor_admin=vendor_admin,
                findings=[(reviewer, "DOC"), (oncd_approver, "ONCD")],
                approver=doc_approver,
            )


def _review_and_clear(frontier_model, spec, *, vendor_admin, findings, approver):
    preview = spec["phase"] == Phase.LIMITED_PREVIEW
    recommendation = (
        ReviewFinding.Recommendation.CLEAR_LIMITED_PREVIEW
        if preview
        else ReviewFinding.Recommendation.CLEAR_GENERAL_AVAILABILITY
    )
    with _travel(480):
        services.submit_for_prerelease_review(
            frontier_model=frontier_model,
            actor=vendor_admin,
            summary=f"Evidence for {frontier_model}: {spec['cyber_evaluation_summary']}",
        )
    with _travel(470):
        for official, code in findings:
            review = PrereleaseReview.objects.get(
                frontier_model=frontier_model, status=PrereleaseReview.Status.IN_REVIEW
            )
            services.record_review_finding(
                review=review,
                actor=official,
                text=f"{code} reviewed the evidence for {frontier_model}: {spec['capability_summary']}",
                recommendation=recommendation,
            )
    with _travel(460):
        if preview:
            services.clear_for_limited_preview(
                frontier_model=frontier_model,
                actor=approver,
                basis="Evaluations and red-team results reviewed by DOC and ONCD; mitigations adequate for "
                "a limited preview, customer by customer.",
                preview_customer_cap=spec.get("cap"),
            )
        else:
            services.clear_for_general_availability(
                frontier_model=frontier_model,
                actor=approver,
                basis="No meaningful cyber uplift found by DOC and ONCD; cleared for general availability.",
            )
