"""What every service shares: saving with history, locks, guards, version checks, limits."""

import functools
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from approvals.models import (
    GRANT_DAYS,
    AccessRequest,
    EnforcementAction,
    InformationRequest,
    Referral,
)
from approvals.models.dashboard import counted_once
from approvals.models.review import refresh_next_due
from portal.audit.history import save_with_history
from portal.audit.versions import changes_since
from portal.errors import PortalError
from vendors.models import FrontierModel

MAX_DURATION_DAYS = GRANT_DAYS


ACTIVE_REFERRAL_STATUSES = (Referral.Status.OPEN, Referral.Status.DRAFTED)


UNDER_REVIEW = (
    AccessRequest.Status.SUBMITTED,
    AccessRequest.Status.IN_REVIEW,
    AccessRequest.Status.INFO_REQUESTED,
)


UNCHANGED = object()


def service(function):
    """A service's transaction (``transaction.atomic``), in which the next due date and the
    dashboard's marks of each request it changed are computed once, at its end, instead of after
    every save (``approvals.models.dashboard.counted_once``)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        with transaction.atomic(), counted_once():
            return function(*args, **kwargs)

    return run


def _save(instance, *, actor, reason, update_fields=None):
    """``save_with_history`` (the reason on one line) with model validation turned into a message
    for the form."""
    try:
        return save_with_history(instance, actor=actor, reason=_why(reason), update_fields=update_fields)
    except ValidationError as exc:
        pairs = (
            [(f, m) for f, ms in exc.message_dict.items() for m in ms]
            if hasattr(exc, "message_dict")
            else [(None, m) for m in exc.messages]
        )
        field = pairs[0][0] if pairs[0][0] != "__all__" else None
        raise PortalError(pairs[0][1], field=field, messages=[m for _, m in pairs]) from None


def _save_request(access_request, *, actor, reason, update_fields):
    """Every change to a request raises its version, so a form from a stale page is refused."""
    access_request.version += 1
    return _save(access_request, actor=actor, reason=reason, update_fields=[*update_fields, "version"])


def _clean_text(value):
    return (value or "").strip()


def _typed(reason, label, text):
    """A history reason with the words the person typed (a rationale, an answer) after it, so the
    history row of the verb says what was decided and why."""
    return f"{reason} {label}: {text}" if text else reason


def _person(user):
    return user.full_name or user.email


def _date(value):
    return value.strftime("%B %-d, %Y")


def _forget_permission_cache(user):
    for attr in [a for a in vars(user) if a.startswith("_guardian") or a.endswith("_perm_cache")]:
        delattr(user, attr)


def _lock_request(access_request):
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("vendor", "frontier_model", "partner_customer")
        .get(pk=access_request.pk)
    )


def _changed_since(expected, actual):
    """Whether a figure a page showed (``expected``, as submitted) differs from ``actual`` now.
    Nothing submitted means the caller did not ask for the check."""
    if expected in (None, ""):
        return False
    try:
        return int(expected) != actual
    except (TypeError, ValueError):
        return True


def _check_version(access_request, expected_version):
    """Refuse a form filled in on a page that showed an older state of the request."""
    if _changed_since(expected_version, access_request.version):
        who = "; ".join(
            f"{person} at {timezone.localtime(when):%H:%M}: {reason or ', '.join(fields)}"
            for person, when, fields, reason in changes_since(access_request, expected_version)[-3:]
        )
        raise PortalError(
            f"{access_request} changed while you were looking at it (it is now "
            f"“{access_request.get_status_display()}”{'; ' + who if who else ''}). Nothing was saved: "
            "reload the page, check what changed and try again."
        )


def _referral_of(access_request, agency):
    return Referral.objects.filter(access_request=access_request, agency=agency).first()


def _whole_number(value, *, field, not_a_number, low, high=None, out_of_range):
    """A whole number typed in a form, between ``low`` and ``high``; ``None`` when left empty."""
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise PortalError(not_a_number, field=field) from None
    if number < low or (high is not None and number > high):
        raise PortalError(out_of_range, field=field)
    return number


def _check_duration(value):
    return _whole_number(
        value,
        field="requested_duration_days",
        not_a_number="Give the duration as a whole number of days.",
        low=1,
        high=MAX_DURATION_DAYS,
        out_of_range=f"Ask for between 1 and {MAX_DURATION_DAYS} days: preview access is granted for a year "
        "at most.",
    )


def _clean_cap(value):
    return _whole_number(
        value,
        field="preview_customer_cap",
        not_a_number="Give the cap as a whole number of partner customers.",
        low=1,
        out_of_range="A cap allows at least one partner customer; leave it empty for no cap.",
    )


def _lock_referral(referral):
    """Lock the request, then the referral (always in this order)."""
    access_request = _lock_request(referral.access_request)
    referral = Referral.objects.select_for_update(of=("self",)).select_related("agency").get(pk=referral.pk)
    referral.access_request = access_request
    return access_request, referral


Phase = FrontierModel.ReleasePhase


Kind = EnforcementAction.Kind


BULK_BATCH = 500  # rows per statement: well under every database's limit on bound values


def _why(text):
    """A history reason on one line (reasons are text: the legal basis is kept whole)."""
    return " ".join((text or "").split())


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
    if _changed_since(expected, actual):
        raise PortalError(
            f"Since the confirmation page was opened the number of {what} changed (it showed {expected}, "
            f"it is now {actual}). Nothing was done: read the new figures and confirm again."
        )


def _plural(count, word, plural=None):
    return f"{count} {word if count == 1 else (plural or word + 's')}"


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


def _resume_clocks(requests, *, actor, now):
    """Restart the stopped clocks of ``requests``, adding the days each was stopped to its due
    date, unless an information request still holds the request (then its clocks stay stopped).

    Used when the last open question is answered and when a suspension's hold is lifted; the
    referrals and their history rows are written in batches."""
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
        reason = f"Clock resumed after {_plural(paused, 'day')} stopped; now due {_date(referral.due_date)}."
        by_reason.setdefault(reason, []).append(referral)
    for reason, batch in by_reason.items():
        bulk_update_with_history(
            batch,
            Referral,
            ["due_date", "paused_days", "clock_stopped_at"],
            batch_size=BULK_BATCH,
            default_user=actor,
            default_change_reason=reason,
            default_date=now,
        )
    refresh_next_due(r.access_request_id for r in referrals)
