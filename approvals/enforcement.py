"""Release phases and enforcement: one function per verb, each in one transaction.

Pre-release review (a vendor submits a frontier model, agencies record findings, the lead
agency clears it for limited preview or general availability, or not); enforcement actions
of the lead agency's approvers (suspend a model and lift the suspension, revoke a grant,
designate a vendor a supply-chain risk and rescind it); incident reports; grant renewal.

Like ``approvals/services.py``: every service checks the actor's role and object permission
and the current state, locks what it changes, writes history with the actor and a reason
that carries the basis, and writes its notifications in the same transaction. Locks are
taken in one order everywhere: access requests, then the model or vendor, then grants.

A suspension touches every active grant of a model at once: it writes the grants and their
history rows in bulk (``bulk_update_with_history``), never row by row, so that ten thousand
grants are suspended in one short transaction.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from approvals import services
from approvals.models import (
    AccessRequest,
    Agency,
    EnforcementAction,
    Grant,
    IncidentReport,
    InformationRequest,
    PrereleaseReview,
    Referral,
    ReviewFinding,
    RoutingRule,
)
from approvals.services import (
    ACTIVE_REFERRAL_STATUSES,
    REVIEW_ROLES,
    UNCHANGED,
    _clean_text,
    _date,
    _person,
    agency_of,
    agency_officials,
    vendor_compliance_team,
)
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Role, User
from portal.audit.history import save_with_history
from portal.errors import PortalError
from portal.notifications.services import notify
from vendors.models import FrontierModel, Vendor

Phase = FrontierModel.ReleasePhase
Kind = EnforcementAction.Kind

DESIGNATION_RESPONSE_DAYS = 30
# Days from detection to the complete incident report, by severity (DESIGN.md, issue 5).
INCIDENT_REPORT_DAYS = {
    IncidentReport.Severity.CRITICAL_INFRASTRUCTURE: 2,
    IncidentReport.Severity.SECURITY_BREACH: 5,
    IncidentReport.Severity.SERIOUS: 15,
}
BULK_BATCH = 500  # rows per statement: well under every database's limit on bound values


def _why(text):
    """A history reason on one line (reasons are text: the legal basis is kept whole)."""
    return " ".join((text or "").split())


def _save(instance, *, actor, reason, update_fields=None):
    return services._save(instance, actor=actor, reason=_why(reason), update_fields=update_fields)


def designation_response_days():
    return int(getattr(settings, "DESIGNATION_RESPONSE_DAYS", DESIGNATION_RESPONSE_DAYS))


def incident_report_days(severity):
    """The clock of an incident report of ``severity``; ``INCIDENT_REPORT_DAYS`` in settings overrides."""
    configured = {**INCIDENT_REPORT_DAYS, **getattr(settings, "INCIDENT_REPORT_DAYS", {})}
    return int(configured[severity])


# ---------------------------------------------------------------------------------------------
# Who may act


def may_enforce(user):
    """Approvers of the lead agency take enforcement actions and clearance decisions."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    agency = agency_of(user)
    return agency is not None and agency.is_lead and user.role == Role.AGENCY_APPROVER


def may_record_findings(user):
    """Reviewers and approvers of any agency record findings in a pre-release review."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return agency_of(user) is not None and user.role in REVIEW_ROLES


def may_report(user, vendor):
    """Compliance officers and admins of ``vendor`` submit, report, answer and renew."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.organisation_id == vendor.organisation_id
        and user.role in services.VENDOR_ACTOR_ROLES
    )


def vendor_visible_to(user, vendor):
    """An agency knows a vendor through the models it may read (the vendor row is never shared)."""
    if getattr(user, "sees_everything", False):
        return True
    return permissions.visible_to(user, FrontierModel.objects.filter(vendor=vendor)).exists()


def _require_lead_approver(actor, doing, obj=None, *, vendor=None):
    if not may_enforce(actor):
        raise PortalError(f"Only an approver of the lead agency can {doing}.")
    if obj is not None and not permissions.has_object_permission(actor, obj, "view"):
        raise PortalError(f"You may not {doing} on this record.")
    if vendor is not None and not vendor_visible_to(actor, vendor):
        raise PortalError(f"You may not {doing}: none of this vendor's models is known to your agency.")
    return agency_of(actor)


def _require_vendor_actor(actor, vendor, obj=None, action="view"):
    if not (actor.is_active and actor.organisation_id == vendor.organisation_id):
        raise PortalError("Only the vendor's compliance team can do this.")
    if actor.role not in services.VENDOR_ACTOR_ROLES:
        raise PortalError(
            "Viewers can follow the record but not act on it. Ask a compliance officer or admin."
        )
    if obj is not None and not permissions.has_object_permission(actor, obj, action):
        raise PortalError("You may not act on this record.")


def _basis(legal_basis, findings):
    """Every enforcement action states its legal basis and its findings."""
    legal_basis, findings = _clean_text(legal_basis), _clean_text(findings)
    problems = []
    if not legal_basis:
        problems.append(("legal_basis", "State the legal basis for the action."))
    if not findings:
        problems.append(("findings", "Write the findings the action rests on."))
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    return legal_basis, findings


def _check_expected(expected, actual, what):
    """Refuse an action confirmed on a page that showed different figures from those now."""
    if expected in (None, ""):
        return
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        expected = -1
    if expected != actual:
        raise PortalError(
            f"Since the confirmation page was opened the number of {what} changed (it showed {expected}, "
            f"it is now {actual}). Nothing was done: read the new figures and confirm again."
        )


def _plural(count, word, plural=None):
    return f"{count} {word if count == 1 else (plural or word + 's')}"


# ---------------------------------------------------------------------------------------------
# Links and recipients


def vendor_model_link(frontier_model):
    return reverse("vendors:model_detail", args=[frontier_model.pk])


def admin_model_link(frontier_model):
    return reverse("admin:approvals_enforcementaction_model", args=[frontier_model.pk])


def admin_action_link(action):
    return reverse("admin:approvals_enforcementaction_change", args=[action.pk])


def _officials_concerned(*, frontier_model=None, vendor=None, roles=AGENCY_ROLES):
    """Officials of the lead agency and of every agency holding referrals (hence grants) for the
    model or the vendor's requests."""
    referrals = Referral.objects.all()
    if frontier_model is not None:
        referrals = referrals.filter(access_request__frontier_model=frontier_model)
    if vendor is not None:
        referrals = referrals.filter(access_request__vendor=vendor)
    organisation_ids = set(referrals.values_list("agency__organisation_id", flat=True).distinct())
    organisation_ids |= set(Agency.objects.filter(is_lead=True).values_list("organisation_id", flat=True))
    return list(User.objects.filter(organisation_id__in=organisation_ids, role__in=roles, is_active=True))


def _lead_approvers():
    return list(
        User.objects.filter(
            organisation__agency__is_lead=True, role=Role.AGENCY_APPROVER, is_active=True
        ).order_by("pk")
    )


def _all_agency_groups():
    return [agency.officials_group for agency in Agency.objects.select_related("officials_group")]


def _share_with_agencies(obj, *, also=()):
    """Every agency's officials read ``obj`` (and ``also``: the model it concerns, with evidence)."""
    from vendors.services import share_with_group

    for group in _all_agency_groups():
        permissions.grant("view", group, obj)
        for extra in also:
            share_with_group(extra, group)


def _notify_people(recipients, *, event, subject, key, link, label, context=None):
    return notify(
        event=event,
        recipients=recipients,
        subject=subject,
        context=context or {},
        link=link,
        key=key,
        object_label=label,
    )


# ---------------------------------------------------------------------------------------------
# Pre-release review


def _lock_model(frontier_model):
    return (
        FrontierModel.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor")
        .get(pk=frontier_model.pk)
    )


def _set_phase(frontier_model, phase, *, actor, reason, cap=UNCHANGED):
    frontier_model.release_phase = phase
    frontier_model.updated_at = timezone.now()
    fields = ["release_phase", "updated_at"]
    if cap is not UNCHANGED:
        frontier_model.preview_customer_cap = cap
        fields.append("preview_customer_cap")
    return _save(frontier_model, actor=actor, reason=reason, update_fields=fields)


@transaction.atomic
def submit_for_prerelease_review(*, frontier_model, actor, summary):
    """The vendor submits a frontier model, with its evidence, for the agencies' review.

    From ``registered`` the model goes ``in_review``; from ``limited_preview`` it asks for
    general availability and stays in preview while the agencies review it.
    """
    frontier_model = _lock_model(frontier_model)
    vendor = frontier_model.vendor
    _require_vendor_actor(actor, vendor, frontier_model, "change")
    phase = frontier_model.release_phase
    if phase not in (Phase.REGISTERED, Phase.LIMITED_PREVIEW):
        raise PortalError(
            f"{frontier_model} is “{frontier_model.get_release_phase_display()}”: only a registered model, "
            "or one in limited preview asking for general availability, can be submitted for review."
        )
    if PrereleaseReview.objects.filter(
        frontier_model=frontier_model, status=PrereleaseReview.Status.IN_REVIEW
    ).exists():
        raise PortalError(f"{frontier_model} is already under pre-release review.")
    if not frontier_model.is_frontier:
        raise PortalError(f"{frontier_model.frontier_reason} It needs no pre-release review.")
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


@transaction.atomic
def record_review_finding(*, review, actor, text, recommendation=ReviewFinding.Recommendation.NONE):
    """An agency official records a finding in an open pre-release review (agency-side only)."""
    if not may_record_findings(actor):
        raise PortalError("Only agency reviewers and approvers record findings.")
    if not permissions.has_object_permission(actor, review, "view"):
        raise PortalError("You may not record findings in this review.")
    review = (
        PrereleaseReview.objects.select_for_update(no_key=True)
        .select_related("frontier_model")
        .get(pk=review.pk)
    )
    if not review.is_open:
        raise PortalError(
            f"The review of {review.frontier_model} is closed ({review.get_status_display().lower()}); "
            "findings can no longer be added."
        )
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


def _clean_cap(value):
    if value in (None, ""):
        return None
    try:
        cap = int(value)
    except (TypeError, ValueError):
        raise PortalError(
            "Give the cap as a whole number of partner customers.", field="preview_customer_cap"
        ) from None
    if cap < 1:
        raise PortalError(
            "A cap allows at least one partner customer; leave it empty for no cap.",
            field="preview_customer_cap",
        )
    return cap


def _decide_review(frontier_model, *, actor, doing, basis, allowed_phases):
    """Lock the model and its open review for a clearance decision by the lead agency."""
    _require_lead_approver(actor, doing, frontier_model)
    frontier_model = _lock_model(frontier_model)
    review = _open_review(frontier_model)
    if review is None or frontier_model.release_phase not in allowed_phases:
        raise PortalError(
            f"{frontier_model} is “{frontier_model.get_release_phase_display()}”"
            f"{'' if review is not None else ' with no pre-release review open'}: you cannot {doing}."
        )
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


@transaction.atomic
def clear_for_limited_preview(*, frontier_model, actor, basis, preview_customer_cap=None):
    """Clear a model under review for limited preview, optionally capping its partner customers."""
    frontier_model, review, basis = _decide_review(
        frontier_model,
        actor=actor,
        doing="clear it for limited preview",
        basis=basis,
        allowed_phases=(Phase.IN_REVIEW,),
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


@transaction.atomic
def clear_for_general_availability(*, frontier_model, actor, basis):
    """Clear a model under review (or in limited preview, asking for it) for general availability."""
    frontier_model, review, basis = _decide_review(
        frontier_model,
        actor=actor,
        doing="clear it for general availability",
        basis=basis,
        allowed_phases=(Phase.IN_REVIEW, Phase.LIMITED_PREVIEW),
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


@transaction.atomic
def decline_clearance(*, frontier_model, actor, basis):
    """Do not clear: a model under review goes back to registered; one in preview stays in it."""
    frontier_model, review, basis = _decide_review(
        frontier_model,
        actor=actor,
        doing="decide its pre-release review",
        basis=basis,
        allowed_phases=(Phase.IN_REVIEW, Phase.LIMITED_PREVIEW),
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


# ---------------------------------------------------------------------------------------------
# Suspension of a model (pulling it offline) and lifting it


def _share_action(action):
    permissions.grant("view", action.vendor.members_group, action)
    for group in _all_agency_groups():
        permissions.grant("view", group, action)


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


def _resume_clocks(requests, *, actor, now):
    """Restart the stopped clocks of requests coming off hold, adding the stopped days back, unless
    an information request still holds them."""
    waiting = set(
        InformationRequest.objects.filter(
            access_request__in=[r.pk for r in requests], status=InformationRequest.Status.OPEN
        ).values_list("access_request_id", flat=True)
    )
    today = timezone.localdate(now)
    referrals = list(
        Referral.objects.select_for_update(no_key=True)
        .filter(
            access_request__in=[r.pk for r in requests if r.pk not in waiting], clock_stopped_at__isnull=False
        )
        .order_by("pk")
    )
    by_reason = {}
    for referral in referrals:
        paused = max(0, (today - timezone.localdate(referral.clock_stopped_at)).days)
        referral.due_date += timedelta(days=paused)
        referral.paused_days += paused
        referral.clock_stopped_at = None
        by_reason.setdefault(paused, []).append(referral)
    for paused, batch in by_reason.items():
        bulk_update_with_history(
            batch,
            Referral,
            ["due_date", "paused_days", "clock_stopped_at"],
            batch_size=BULK_BATCH,
            default_user=actor,
            default_change_reason=_why(f"Clock resumed after {_plural(paused, 'day')} stopped: hold lifted."),
            default_date=now,
        )


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


def _set_grants(grants, values, *, actor, now, reason):
    """Give every grant in ``grants`` the same ``values`` and one history row each (actor, reason).

    In batches: one ``UPDATE … WHERE id IN (…)``, then one ``INSERT … SELECT`` that copies the
    updated rows into the history table, in the database. Ten thousand grants take a fraction of
    a second; ``bulk_update_with_history`` (a ``CASE`` branch per row and field, then history
    rows built in Python) took ten seconds on PostgreSQL.
    """
    if not grants:
        return
    for grant in grants:
        for field, value in values.items():
            setattr(grant, field, value)
    pks = [grant.pk for grant in grants]
    for start in range(0, len(pks), BULK_BATCH):
        batch = pks[start : start + BULK_BATCH]
        Grant.objects.filter(pk__in=batch).update(**values)
        _copy_to_history(batch, actor=actor, now=now, reason=_why(reason))


def _copy_to_history(pks, *, actor, now, reason):
    """Write the history rows of the grants ``pks`` as they now are: one ``INSERT … SELECT``."""
    history = Grant.history.model
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in history.tracked_fields)
    placeholders = ", ".join(["%s"] * len(pks))
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} "  # noqa: S608 - names from the models, values bound
        f"({columns}, history_date, history_change_reason, history_type, history_user_id) "
        f"SELECT {columns}, %s, %s, %s, %s FROM {quote(Grant._meta.db_table)} WHERE id IN ({placeholders})"
    )
    date = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(sql, [date, reason, "~", actor.pk, *pks])


def _suspension_in_force(frontier_model, *, lock=False):
    queryset = EnforcementAction.objects.filter(
        frontier_model=frontier_model, kind=Kind.SUSPEND_MODEL, status=EnforcementAction.Status.IN_FORCE
    )
    if lock:
        queryset = queryset.select_for_update(no_key=True)
    return queryset.first()


@transaction.atomic
def suspend_model(
    *, frontier_model, actor, legal_basis, findings, expected_grants=None, expected_requests=None
):
    """Pull a model offline: the model and every active grant for it become suspended, its open
    requests are put on hold (their clocks stop), and everyone concerned is told — at once.

    ``expected_grants`` and ``expected_requests`` are the figures the confirmation page showed;
    if they no longer hold, nothing is done.
    """
    lead = _require_lead_approver(actor, "pull a model offline", frontier_model)
    legal_basis, findings = _basis(legal_basis, findings)
    open_requests = list(
        AccessRequest.objects.select_for_update(of=("self",), no_key=True)
        .filter(frontier_model=frontier_model, status__in=AccessRequest.OPEN_STATUSES, on_hold=False)
        .order_by("pk")
    )
    frontier_model = _lock_model(frontier_model)
    if frontier_model.release_phase == Phase.SUSPENDED:
        raise PortalError(f"{frontier_model} is already suspended.")
    grants = list(
        Grant.objects.select_for_update(no_key=True)
        .filter(frontier_model=frontier_model, status=Grant.Status.ACTIVE)
        .order_by("pk")
    )
    _check_expected(expected_grants, len(grants), "active grants")
    _check_expected(expected_requests, len(open_requests), "open requests")
    now = timezone.now()
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
        ),
        actor=actor,
        reason=f"Model pulled offline by {_person(actor)} ({lead.code}): "
        f"{_plural(len(grants), 'grant')} suspended, {_plural(len(open_requests), 'request')} put on hold.",
    )
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
            "status_reason": f"Suspended: {frontier_model} was pulled offline by {lead.code} on "
            f"{_date(timezone.localdate(now))}. {legal_basis}",
            "suspended_by": action,
        },
        actor=actor,
        now=now,
        reason=f"Suspended with the model by {lead.code}, action #{action.pk}: {legal_basis}",
    )
    for access_request in open_requests:
        access_request.on_hold = True
        access_request.held_by = action
    _bump_requests(
        open_requests,
        ["on_hold", "held_by"],
        actor=actor,
        now=now,
        reason=f"On hold: {frontier_model} was pulled offline by {lead.code}; no decision until lifted.",
    )
    _stop_clocks(
        open_requests,
        actor=actor,
        now=now,
        reason=f"Clock stopped: the request is on hold while {frontier_model} is suspended.",
    )
    _share_action(action)
    context = {
        "model": str(frontier_model),
        "vendor": str(frontier_model.vendor),
        "grants": len(grants),
        "requests": len(open_requests),
        "legal_basis": legal_basis,
        "findings": findings,
        "agency": lead.code,
    }
    subject = f"{frontier_model} pulled offline: {_plural(len(grants), 'grant')} suspended"
    _notify_people(
        vendor_compliance_team(frontier_model.vendor),
        event="model_suspended",
        subject=subject,
        key=str(action.pk),
        link=vendor_model_link(frontier_model),
        label=str(frontier_model),
        context=context,
    )
    _notify_people(
        [u for u in _officials_concerned(frontier_model=frontier_model) if u != actor],
        event="model_suspended",
        subject=subject,
        key=f"{action.pk}:officials",
        link=admin_model_link(frontier_model),
        label=str(frontier_model),
        context=context,
    )
    return action


@transaction.atomic
def lift_suspension(*, frontier_model, actor, legal_basis, findings, expected_grants=None):
    """Lift the suspension in force: the model returns to its phase before it; grants it suspended
    that nothing else has ended since become active again (or expired, if their term ran out
    meanwhile); requests it put on hold resume with their stopped days added back."""
    lead = _require_lead_approver(actor, "lift a suspension", frontier_model)
    legal_basis, findings = _basis(legal_basis, findings)
    suspension = _suspension_in_force(frontier_model)
    held = []
    if suspension is not None:
        held = list(
            AccessRequest.objects.select_for_update(of=("self",), no_key=True)
            .filter(held_by=suspension, on_hold=True)
            .order_by("pk")
        )
    frontier_model = _lock_model(frontier_model)
    suspension = _suspension_in_force(frontier_model, lock=True)
    if suspension is None or frontier_model.release_phase != Phase.SUSPENDED:
        raise PortalError(f"{frontier_model} is not suspended: there is nothing to lift.")
    grants = list(
        Grant.objects.select_for_update(no_key=True)
        .filter(suspended_by=suspension, status=Grant.Status.SUSPENDED)
        .order_by("pk")
    )
    now = timezone.now()
    today = timezone.localdate(now)
    restored = [g for g in grants if g.valid_to >= today]
    lapsed = [g for g in grants if g.valid_to < today]
    _check_expected(expected_grants, len(restored), "grants to restore")
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
    _set_phase(
        frontier_model,
        phase_before,
        actor=actor,
        reason=f"Suspension #{suspension.pk} lifted by {lead.code}, action #{lift.pk}: {legal_basis}",
    )
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
    _share_action(lift)
    context = {
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
    _notify_people(
        vendor_compliance_team(frontier_model.vendor),
        event="model_suspension_lifted",
        subject=subject,
        key=str(lift.pk),
        link=vendor_model_link(frontier_model),
        label=str(frontier_model),
        context=context,
    )
    _notify_people(
        [u for u in _officials_concerned(frontier_model=frontier_model) if u != actor],
        event="model_suspension_lifted",
        subject=subject,
        key=f"{lift.pk}:officials",
        link=admin_model_link(frontier_model),
        label=str(frontier_model),
        context=context,
    )
    return lift


# ---------------------------------------------------------------------------------------------
# Revoking a grant


@transaction.atomic
def revoke_grant(*, grant, actor, legal_basis, findings):
    """Revoke one grant, immediately and for good (an active or suspended one)."""
    lead = _require_lead_approver(actor, "revoke a grant", grant)
    legal_basis, findings = _basis(legal_basis, findings)
    grant = (
        Grant.objects.select_for_update(of=("self",), no_key=True)
        .select_related("access_request", "vendor", "frontier_model", "partner_customer")
        .get(pk=grant.pk)
    )
    if grant.status in (Grant.Status.REVOKED, Grant.Status.EXPIRED):
        raise PortalError(
            f"The grant for {grant.partner_customer} is already {grant.get_status_display().lower()} "
            f"(since {_date(timezone.localdate(grant.status_changed_at))})."
        )
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
    access_request = grant.access_request
    context = {
        "tracking_number": str(access_request),
        "customer": str(grant.partner_customer),
        "model": str(grant.frontier_model),
        "legal_basis": legal_basis,
        "findings": findings,
        "agency": lead.code,
    }
    subject = f"Grant revoked: {grant.partner_customer} for {grant.frontier_model}"
    services._notify_vendor(
        access_request, event="grant_revoked", subject=subject, key=str(action.pk), context=context
    )
    services._notify_officials(
        access_request,
        [u for u in services._referred_officials(access_request) if u != actor],
        event="grant_revoked",
        subject=subject,
        key=f"{action.pk}:officials",
        context=context,
    )
    return action


# ---------------------------------------------------------------------------------------------
# Supply-chain-risk designation


def _supply_chain_rules():
    return list(
        RoutingRule.objects.filter(is_active=True, condition=RoutingRule.Condition.SUPPLY_CHAIN_RISK)
        .select_related("agency__officials_group")
        .order_by("agency__code", "pk")
    )


def designation_referrals(access_requests, rules=None):
    """The referrals a designation adds: ``[(access_request, agency, required, reason)]`` for every
    supply-chain-risk rule's agency not yet referred. Only those rules: a designation never
    re-routes a request by any other rule (rule changes apply to new referrals only)."""
    rules = _supply_chain_rules() if rules is None else rules
    referred = set(
        Referral.objects.filter(access_request__in=[r.pk for r in access_requests]).values_list(
            "access_request_id", "agency_id"
        )
    )
    added = []
    for access_request in access_requests:
        by_agency = {}
        for rule in rules:
            if (access_request.pk, rule.agency_id) in referred:
                continue
            required, reasons = by_agency.get(rule.agency, (False, []))
            by_agency[rule.agency] = (required or rule.required, [*reasons, services._rule_text(rule)])
        for agency, (required, reasons) in by_agency.items():
            added.append((access_request, agency, required, "; ".join(reasons)[:300]))
    return added


def _add_referral(access_request, agency, *, required, routing_reason, actor, now, why):
    """Refer an open request to one more agency, as submission does: same clock, same sharing."""
    today = timezone.localdate(now)
    stopped = access_request.status == AccessRequest.Status.INFO_REQUESTED or access_request.on_hold
    referral = _save(
        Referral(
            access_request=access_request,
            agency=agency,
            required=required,
            routing_reason=routing_reason,
            referred_at=now,
            due_date=Referral.default_due_date(today),
            clock_stopped_at=now if stopped else None,
        ),
        actor=actor,
        reason=f"Referred by routing ({routing_reason}): {why}",
    )
    permissions.grant("view", agency.officials_group, referral)
    services._share_case(access_request, agency)
    for question in access_request.information_requests.all():
        permissions.grant("view", agency.officials_group, question)
    services._save_request(
        access_request, actor=actor, reason=_why(f"Referred also to {agency.code}: {why}"), update_fields=[]
    )
    services._notify_officials(
        access_request,
        agency_officials(agency),
        event="referral_received",
        subject=f"New referral for {agency.code}: {access_request}",
        key=str(referral.pk),
        context={
            "agency": agency.code,
            "due_date": _date(referral.due_date),
            "required": required,
            "customer": str(access_request.partner_customer),
            "model": str(access_request.frontier_model),
        },
    )
    return referral


@transaction.atomic
def designate_supply_chain_risk(*, vendor, actor, legal_basis, findings, expected_requests=None):
    """Designate a vendor a supply-chain risk: written findings and legal basis, notice to the vendor
    with a window to answer (30 days by default), and the extra DOD referral on its open requests."""
    lead = _require_lead_approver(actor, "designate a vendor", vendor=vendor)
    legal_basis, findings = _basis(legal_basis, findings)
    open_requests = list(
        AccessRequest.objects.select_for_update(of=("self",), no_key=True)
        .filter(vendor=vendor, status__in=AccessRequest.OPEN_STATUSES)
        .select_related("vendor", "frontier_model", "partner_customer")
        .order_by("pk")
    )
    vendor = Vendor.objects.select_for_update(no_key=True).get(pk=vendor.pk)
    if vendor.is_supply_chain_risk:
        since = f" since {_date(timezone.localdate(vendor.designated_at))}" if vendor.designated_at else ""
        raise PortalError(f"{vendor} is already designated a supply-chain risk{since}.")
    additions = designation_referrals(open_requests)
    requests_changed = {r.pk for r, _, _, _ in additions}
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
    context = {
        "vendor": str(vendor),
        "legal_basis": legal_basis,
        "findings": findings,
        "respond_by": _date(respond_by),
        "requests": len(requests_changed),
        "agency": lead.code,
    }
    subject = f"{vendor} designated a supply-chain risk: answer by {_date(respond_by)}"
    _notify_people(
        vendor_compliance_team(vendor),
        event="vendor_designated",
        subject=subject,
        key=str(action.pk),
        link=reverse("enforcement:designation"),
        label=str(vendor),
        context=context,
    )
    _notify_people(
        [u for u in _officials_concerned(vendor=vendor) if u != actor],
        event="vendor_designated",
        subject=f"{vendor} designated a supply-chain risk",
        key=f"{action.pk}:officials",
        link=admin_action_link(action),
        label=str(vendor),
        context=context,
    )
    return action


@transaction.atomic
def respond_to_designation(*, action, actor, response):
    """The vendor answers its designation within the window."""
    action = (
        EnforcementAction.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor")
        .get(pk=action.pk)
    )
    _require_vendor_actor(actor, action.vendor, action)
    if action.kind != Kind.DESIGNATE_VENDOR or action.status != EnforcementAction.Status.IN_FORCE:
        raise PortalError("There is no designation in force to answer.")
    if action.responded_at is not None:
        raise PortalError(
            f"Your answer was recorded on {_date(timezone.localdate(action.responded_at))}; "
            "it cannot be changed."
        )
    if timezone.localdate() > action.respond_by:
        raise PortalError(f"The window to answer closed on {_date(action.respond_by)}.")
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


@transaction.atomic
def rescind_designation(*, vendor, actor, legal_basis, findings):
    """Rescind a vendor's designation. Referrals it added stay: a routing change never silently
    alters open referrals, and the agency's review already under way keeps its value."""
    lead = _require_lead_approver(actor, "rescind a designation", vendor=vendor)
    legal_basis, findings = _basis(legal_basis, findings)
    vendor = Vendor.objects.select_for_update(no_key=True).get(pk=vendor.pk)
    if not vendor.is_supply_chain_risk:
        raise PortalError(f"{vendor} is not designated a supply-chain risk.")
    designation = (
        EnforcementAction.objects.select_for_update(no_key=True)
        .filter(vendor=vendor, kind=Kind.DESIGNATE_VENDOR, status=EnforcementAction.Status.IN_FORCE)
        .first()
    )
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
    context = {"vendor": str(vendor), "legal_basis": legal_basis, "findings": findings, "agency": lead.code}
    _notify_people(
        vendor_compliance_team(vendor),
        event="vendor_designation_rescinded",
        subject=f"Designation of {vendor} as a supply-chain risk rescinded",
        key=str(action.pk),
        link=reverse("enforcement:designation"),
        label=str(vendor),
        context=context,
    )
    _notify_people(
        [u for u in _officials_concerned(vendor=vendor) if u != actor],
        event="vendor_designation_rescinded",
        subject=f"Designation of {vendor} as a supply-chain risk rescinded",
        key=f"{action.pk}:officials",
        link=admin_action_link(action),
        label=str(vendor),
        context=context,
    )
    return action


# ---------------------------------------------------------------------------------------------
# Incident reports


def _clean_customers(vendor, customers):
    customers = list(customers or [])
    foreign = [c for c in customers if c.vendor_id != vendor.pk]
    if foreign:
        raise PortalError("Choose only your own partner customers.", field="affected_customers")
    return customers


def _notify_incident(incident, *, event, subject, actor):
    _notify_people(
        [u for u in _officials_concerned(frontier_model=incident.frontier_model) if u != actor],
        event=event,
        subject=subject,
        key=f"{incident.pk}:{incident.status}",
        link=reverse("admin:approvals_incidentreport_change", args=[incident.pk]),
        label=incident.reference,
        context={
            "reference": incident.reference,
            "model": str(incident.frontier_model),
            "vendor": str(incident.vendor),
            "category": incident.get_category_display(),
            "severity": incident.get_severity_display(),
            "due_on": _date(incident.due_on),
            "status": incident.get_status_display(),
        },
    )


@transaction.atomic
def report_incident(
    *,
    frontier_model,
    actor,
    category,
    severity,
    description,
    detected_on,
    affected_customers=(),
    other_affected="",
    root_cause="",
    remediation="",
):
    """The vendor reports a serious incident with one of its models. The complete report is due
    within the severity's clock (2, 5 or 15 days from detection); with root cause and remediation
    given now, the report is complete at once."""
    frontier_model = FrontierModel.objects.select_related("vendor").get(pk=frontier_model.pk)
    vendor = frontier_model.vendor
    _require_vendor_actor(actor, vendor, frontier_model)
    problems = []
    if category not in IncidentReport.Category.values:
        problems.append(("category", "Choose what kind of incident it is."))
    if severity not in IncidentReport.Severity.values:
        problems.append(("severity", "Choose the severity: it sets the report's deadline."))
    description = _clean_text(description)
    if not description:
        problems.append(("description", "Describe what happened, when, and what was done so far."))
    today = timezone.localdate()
    if not isinstance(detected_on, date):
        problems.append(("detected_on", "Give the day you became aware of the incident."))
    elif detected_on > today:
        problems.append(("detected_on", "The day you became aware of it cannot be in the future."))
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    customers = _clean_customers(vendor, affected_customers)
    root_cause, remediation = _clean_text(root_cause), _clean_text(remediation)
    now = timezone.now()
    complete = bool(root_cause and remediation)
    incident = IncidentReport(
        vendor=vendor,
        frontier_model=frontier_model,
        category=category,
        severity=severity,
        description=description,
        detected_on=detected_on,
        due_on=detected_on + timedelta(days=incident_report_days(severity)),
        other_affected=_clean_text(other_affected),
        root_cause=root_cause,
        remediation=remediation,
        reported_by=actor,
        reported_at=now,
        status=IncidentReport.Status.COMPLETE if complete else IncidentReport.Status.INITIAL,
        completed_by=actor if complete else None,
        completed_at=now if complete else None,
    )
    word = "Complete report" if complete else "Initial report"
    _save(incident, actor=actor, reason=f"{word} filed by {_person(actor)}.")
    if customers:
        incident.affected_customers.set(customers)
    permissions.grant("view", vendor.members_group, incident)
    permissions.grant(["view", "change"], vendor.editors_group, incident)
    _share_with_agencies(incident, also=[frontier_model])
    _notify_incident(
        incident,
        event="incident_reported",
        subject=f"Incident with {frontier_model}: {incident.get_category_display()} "
        f"({incident.get_severity_display().lower()})",
        actor=actor,
    )
    return incident


@transaction.atomic
def complete_incident_report(
    *, incident, actor, root_cause, remediation, affected_customers=UNCHANGED, other_affected=UNCHANGED
):
    """The vendor completes an initial report with the root cause, the remediation and who was affected."""
    incident = (
        IncidentReport.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor", "frontier_model")
        .get(pk=incident.pk)
    )
    _require_vendor_actor(actor, incident.vendor, incident, "change")
    if incident.is_complete:
        raise PortalError(
            f"{incident.reference} was completed on {_date(timezone.localdate(incident.completed_at))}; "
            "report anything new as a new incident."
        )
    root_cause, remediation = _clean_text(root_cause), _clean_text(remediation)
    problems = []
    if not root_cause:
        problems.append(("root_cause", "Explain the root cause as far as it is known."))
    if not remediation:
        problems.append(("remediation", "Describe what was done, and will be done, to remedy it."))
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    now = timezone.now()
    incident.root_cause = root_cause
    incident.remediation = remediation
    fields = ["root_cause", "remediation", "status", "completed_by", "completed_at"]
    if other_affected is not UNCHANGED:
        incident.other_affected = _clean_text(other_affected)
        fields.append("other_affected")
    incident.status = IncidentReport.Status.COMPLETE
    incident.completed_by = actor
    incident.completed_at = now
    late = " (after its deadline)" if timezone.localdate(now) > incident.due_on else ""
    _save(incident, actor=actor, reason=f"Report completed by {_person(actor)}{late}.", update_fields=fields)
    if affected_customers is not UNCHANGED:
        incident.affected_customers.set(_clean_customers(incident.vendor, affected_customers))
    _notify_incident(
        incident,
        event="incident_completed",
        subject=f"Incident report completed: {incident.reference} with {incident.frontier_model}",
        actor=actor,
    )
    return incident


# ---------------------------------------------------------------------------------------------
# Grants: renewal (expiry is ``services.expire_lapsed_grants``, a scheduled job)


RENEWAL_CLOSED_STATUSES = (
    AccessRequest.Status.WITHDRAWN,
    AccessRequest.Status.RETURNED,
    AccessRequest.Status.DENIED,
)


@transaction.atomic
def request_grant_renewal(*, grant, actor):
    """Open a draft request to renew ``grant``: pre-filled from the request that led to it and linked
    to it (``renewal_of``). The vendor checks it, attaches current documents and submits it."""
    grant = (
        Grant.objects.select_for_update(of=("self",), no_key=True)
        .select_related("access_request", "vendor", "frontier_model", "partner_customer")
        .get(pk=grant.pk)
    )
    _require_vendor_actor(actor, grant.vendor, grant)
    if grant.status == Grant.Status.REVOKED:
        raise PortalError(
            "A revoked grant cannot be renewed. File a new request if the grounds have changed."
        )
    if grant.status == Grant.Status.SUSPENDED:
        raise PortalError(
            f"The grant is suspended with {grant.frontier_model}; it can be renewed once the suspension "
            "is lifted."
        )
    existing = (
        AccessRequest.objects.filter(renewal_of=grant).exclude(status__in=RENEWAL_CLOSED_STATUSES).first()
    )
    if existing is not None:
        raise PortalError(
            f"This grant's renewal is already under way: {existing} "
            f"({existing.get_status_display().lower()})."
        )
    original = grant.access_request
    access_request = services.create_draft_request(
        actor=actor,
        frontier_model=grant.frontier_model,
        partner_customer=grant.partner_customer,
        use_case=original.use_case,
        scope=original.scope,
        requested_duration_days=original.requested_duration_days,
    )
    access_request.renewal_of = grant
    services._save_request(
        access_request,
        actor=actor,
        reason=_why(
            f"Renewal of the grant from {original} ({grant.get_status_display().lower()}, valid until "
            f"{_date(grant.valid_to)}), pre-filled from it."
        ),
        update_fields=["renewal_of"],
    )
    return access_request


# ---------------------------------------------------------------------------------------------
# Reminders (a daily scheduled job)


def send_enforcement_reminders(*, today=None):
    """Daily: incident reports still initial when due tomorrow, today or overdue (one reminder a day),
    and designations whose window to answer closes in 7 days or tomorrow. Idempotent per day."""
    today = today or timezone.localdate()
    sent = 0
    teams = {}

    def team(vendor):
        if vendor.pk not in teams:
            teams[vendor.pk] = vendor_compliance_team(vendor)
        return teams[vendor.pk]

    incidents = IncidentReport.objects.filter(
        status=IncidentReport.Status.INITIAL, due_on__lte=today + timedelta(days=1)
    ).select_related("vendor", "frontier_model")
    for incident in incidents:
        days = (incident.due_on - today).days
        when = "overdue" if days < 0 else ("due today" if days == 0 else "due tomorrow")
        with transaction.atomic():
            sent += len(
                _notify_people(
                    team(incident.vendor),
                    event="incident_report_due",
                    subject=f"Complete report {when}: {incident.reference} ({incident.frontier_model})",
                    key=f"{incident.pk}:{today.isoformat()}",
                    link=reverse("enforcement:incident_detail", args=[incident.pk]),
                    label=incident.reference,
                    context={
                        "reference": incident.reference,
                        "model": str(incident.frontier_model),
                        "due_on": _date(incident.due_on),
                        "when": when,
                    },
                )
            )
    designations = EnforcementAction.objects.filter(
        kind=Kind.DESIGNATE_VENDOR,
        status=EnforcementAction.Status.IN_FORCE,
        responded_at__isnull=True,
        respond_by__in=[today + timedelta(days=7), today + timedelta(days=1)],
    ).select_related("vendor")
    for designation in designations:
        days = (designation.respond_by - today).days
        with transaction.atomic():
            sent += len(
                _notify_people(
                    team(designation.vendor),
                    event="designation_response_due",
                    subject=f"Answer the designation by {_date(designation.respond_by)}",
                    key=f"{designation.pk}:{days}",
                    link=reverse("enforcement:designation"),
                    label=str(designation.vendor),
                    context={"vendor": str(designation.vendor), "respond_by": _date(designation.respond_by)},
                )
            )
    return sent
