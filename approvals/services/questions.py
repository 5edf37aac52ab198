"""Information requests: asking the vendor, its answer, and returning requests whose answer lapsed."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from approvals import policies
from approvals.models import (
    INFORMATION_REQUEST_DAYS,
    AccessRequest,
    InformationRequest,
)
from approvals.models.dashboard import counted_once
from approvals.policies import REVIEW_ROLES, agency_of
from approvals.selectors.people import agency_officials
from approvals.services._common import (
    ACTIVE_REFERRAL_STATUSES,
    _check_version,
    _clean_text,
    _date,
    _lock_request,
    _person,
    _resume_clocks,
    _save,
    _save_request,
    _typed,
    service,
)
from approvals.services._notify import (
    _notify_officials,
    _notify_vendor,
    _notify_vendor_and_officials,
    _referred_officials,
)
from approvals.services.requests import _close_information_requests, _close_referrals, _store_document
from portal import permissions
from portal.errors import PortalError
from portal.params import deadline_problem


@service
def issue_information_request(*, access_request, actor, question, deadline=None, expected_version=None):
    """Ask the vendor a question: the request waits for the answer and every clock stops."""
    access_request = _lock_request(access_request)
    policies.require_ask_vendor(actor, access_request)
    agency = agency_of(actor)
    _check_version(access_request, expected_version)
    question = _clean_text(question)
    if not question:
        raise PortalError("Write the question for the vendor.", field="question")
    now = timezone.now()
    today = timezone.localdate(now)
    deadline = deadline or today + timedelta(days=INFORMATION_REQUEST_DAYS)
    problem = deadline_problem(deadline, today=today)
    if problem:
        raise PortalError(problem, field="deadline")
    information_request = _save(
        InformationRequest(
            access_request=access_request,
            agency=agency,
            question=question,
            asked_by=actor,
            asked_at=now,
            deadline=deadline,
        ),
        actor=actor,
        reason=_typed(f"Asked by {_person(actor)} ({agency.code}).", "Question", question),
    )
    permissions.grant("view", access_request.vendor.members_group, information_request)
    for referred in access_request.referrals.select_related("agency__officials_group"):
        permissions.grant("view", referred.agency.officials_group, information_request)
    for stopped in access_request.referrals.select_for_update().filter(
        status__in=ACTIVE_REFERRAL_STATUSES, clock_stopped_at__isnull=True
    ):
        stopped.clock_stopped_at = now
        _save(
            stopped,
            actor=actor,
            reason=f"Clock stopped: {agency.code} asked the vendor.",
            update_fields=["clock_stopped_at"],
        )
    access_request.status = AccessRequest.Status.INFO_REQUESTED
    _save_request(
        access_request,
        actor=actor,
        reason=f"{agency.code} asked the vendor a question; answer by {_date(deadline)}.",
        update_fields=["status"],
    )
    _notify_vendor(
        access_request,
        event="information_request_issued",
        subject=f"Question from {agency.code} on {access_request}: answer by {_date(deadline)}",
        key=str(information_request.pk),
        context={"agency": agency.code, "question": question, "deadline": _date(deadline)},
    )
    return information_request


@service
def answer_information_request(*, information_request, actor, answer, documents=(), expected_version=None):
    """The vendor answers a question (text and documents); with none left open the clocks resume."""
    access_request = _lock_request(information_request.access_request)
    information_request = (
        InformationRequest.objects.select_for_update().select_related("agency").get(pk=information_request.pk)
    )
    information_request.access_request = access_request
    policies.require_answer_question(actor, information_request)
    _check_version(access_request, expected_version)
    answer = _clean_text(answer)
    if not answer:
        raise PortalError("Write your answer.", field="answer")
    now = timezone.now()
    for uploaded in documents or ():
        _store_document(
            access_request=access_request,
            actor=actor,
            uploaded_file=uploaded,
            title=f"Answer to {information_request.agency.code}: {getattr(uploaded, 'name', 'document')}",
            information_request=information_request,
        )
    information_request.answer = answer
    information_request.answered_by = actor
    information_request.answered_at = now
    information_request.status = InformationRequest.Status.ANSWERED
    _save(
        information_request,
        actor=actor,
        reason=_typed(f"Answered by {_person(actor)}.", "Answer", answer),
        update_fields=["answer", "answered_by", "answered_at", "status"],
    )
    still_open = access_request.information_requests.filter(status=InformationRequest.Status.OPEN).exists()
    if still_open:
        reason = f"{information_request.agency.code}'s question answered; other questions are still open."
        _save_request(access_request, actor=actor, reason=reason, update_fields=[])
    else:
        if not access_request.on_hold:  # a hold keeps the clocks stopped until it is lifted
            _resume_clocks([access_request], actor=actor, now=now)
        access_request.status = AccessRequest.Status.IN_REVIEW
        _save_request(
            access_request,
            actor=actor,
            reason=f"{information_request.agency.code}'s question answered; review resumed.",
            update_fields=["status"],
        )
    _notify_officials(
        access_request,
        agency_officials(information_request.agency, REVIEW_ROLES),
        event="information_answered",
        subject=f"The vendor answered {information_request.agency.code}'s question on {access_request}",
        key=str(information_request.pk),
        context={"agency": information_request.agency.code, "answer": answer},
    )
    return information_request


def _return_lapsed(information_request_pk, *, actor, today):
    with transaction.atomic(), counted_once():
        question = InformationRequest.objects.select_related("access_request", "agency").get(
            pk=information_request_pk
        )
        access_request = _lock_request(question.access_request)
        question = InformationRequest.objects.select_for_update().select_related("agency").get(pk=question.pk)
        if question.status != InformationRequest.Status.OPEN or question.deadline >= today:
            return False
        question.status = InformationRequest.Status.LAPSED
        _save(
            question,
            actor=actor,
            reason=f"Not answered by {_date(question.deadline)}.",
            update_fields=["status"],
        )
        reason = (
            f"Returned without action: {question.agency.code}'s question of "
            f"{_date(timezone.localdate(question.asked_at))} was not answered by {_date(question.deadline)}."
        )
        _close_information_requests(access_request, actor=actor, reason="Closed: the request was returned.")
        _close_referrals(access_request, actor=actor, reason="Closed: the request was returned.")
        access_request.status = AccessRequest.Status.RETURNED
        access_request.closed_reason = reason
        _save_request(access_request, actor=actor, reason=reason, update_fields=["status", "closed_reason"])
        _notify_vendor_and_officials(
            access_request,
            _referred_officials(access_request),
            event="request_returned",
            subject=f"Returned without action: {access_request}",
            key=str(access_request.pk),
            context={"reason": reason},
        )
        return True


def return_lapsed_requests(*, today=None):
    """Scheduled: return every request whose information request went unanswered past its deadline."""
    from portal.accounts.services import system_user

    today = today or timezone.localdate()
    actor = system_user()
    lapsed = InformationRequest.objects.filter(
        status=InformationRequest.Status.OPEN,
        deadline__lt=today,
        access_request__status=AccessRequest.Status.INFO_REQUESTED,
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(lapsed) if _return_lapsed(pk, actor=actor, today=today))
