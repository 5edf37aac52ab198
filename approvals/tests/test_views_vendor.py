"""The vendor's request pages: who sees what, what forms do, and what a vendor never sees."""

import re

import pytest
from django.urls import reverse

from approvals import services
from approvals.models import AccessRequest, InformationRequest
from approvals.tests.factories import (
    bulk_submitted,
    document,
    draft,
    new_customer,
    referral,
    refresh,
    sign,
    submitted,
)

pytestmark = pytest.mark.django_db

LIST = "/vendor/requests/"


def detail(access_request):
    return f"/vendor/requests/{access_request.tracking_number or access_request.pk}/"


def page_text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------------------------------------
# Who sees which page


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("officer", 200),
        ("vendor_admin", 200),
        ("viewer", 200),
        ("other_officer", 404),
        ("doc_approver", 404),
        ("auditor", 404),
        ("portal_admin", 404),
    ],
)
def test_detail_role_matrix(client, world, who, expected):
    access_request = submitted(world)
    client.force_login(world[who])
    assert client.get(detail(access_request)).status_code == expected
    assert client.get(f"{detail(access_request)}letter/").status_code == 404  # no decision yet


@pytest.mark.parametrize(
    ("who", "expected"),
    [("officer", 200), ("viewer", 200), ("other_officer", 200), ("doc_approver", 404), ("auditor", 404)],
)
def test_list_role_matrix(client, world, who, expected):
    client.force_login(world[who])
    assert client.get(LIST).status_code == expected


def test_anonymous_is_sent_to_sign_in(client, world):
    access_request = submitted(world)
    for url in (LIST, f"{LIST}new/", detail(access_request), f"{detail(access_request)}withdraw/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_new_and_withdraw_pages_are_for_officers_and_admins(client, world):
    access_request = submitted(world)
    for who, expected in (("officer", 200), ("vendor_admin", 200), ("viewer", 404)):
        client.force_login(world[who])
        assert client.get(f"{LIST}new/").status_code == expected, who
        assert client.get(f"{detail(access_request)}withdraw/").status_code == expected, who


def test_the_list_shows_only_the_vendors_own_requests(client, world):
    mine = submitted(world)
    client.force_login(world["other_officer"])
    assert mine.tracking_number not in page_text(client.get(LIST))
    client.force_login(world["viewer"])
    assert mine.tracking_number in page_text(client.get(LIST))


def test_a_draft_is_addressed_by_id_and_a_submitted_request_by_tracking_number(client, world):
    access_request = submitted(world)
    client.force_login(world["officer"])
    response = client.get(f"{LIST}{access_request.pk}/")
    assert response.status_code == 302
    assert response["Location"] == detail(access_request)
    assert client.get(f"{LIST}far-2026-999999/").status_code == 404
    assert client.get(f"{LIST}nonsense/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Query counts


def make_requests(world, count):
    bulk_submitted(world, count)


@pytest.mark.parametrize("count", [5, 50])
def test_list_costs_the_same_for_5_and_50_requests(client, world, django_assert_max_num_queries, count):
    make_requests(world, count)
    client.force_login(world["officer"])
    client.get(LIST)
    with django_assert_max_num_queries(14):
        response = client.get(LIST + "?status=submitted")
    assert response.status_code == 200
    assert f"{count} requests" in page_text(response)


@pytest.mark.parametrize("questions", [1, 8])
def test_detail_costs_the_same_for_few_and_many_questions(
    client, world, django_assert_max_num_queries, questions
):
    access_request = submitted(world)
    for n in range(questions):
        question = services.issue_information_request(
            access_request=refresh(access_request), actor=world["doc_reviewer"], question=f"Q{n}?"
        )
        if n < questions - 1:
            services.answer_information_request(
                information_request=question, actor=world["officer"], answer="A.", documents=[document()]
            )
    client.force_login(world["officer"])
    # the page asks policies.can_<verb> once per kind of button (each a permission check)
    with django_assert_max_num_queries(36):
        response = client.get(detail(access_request))
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# Filing a request


def new_request_data(world, **overrides):
    data = {
        "frontier_model": world.frontier_model.pk,
        "partner_customer": world.partner_customer.pk,
        "use_case": "Alert triage",
        "scope": "10 seats",
        "requested_duration_days": "120",
        "document_title": "End use",
    }
    data.update(overrides)
    return data


def test_new_request_saves_a_draft_with_its_document(client, world):
    client.force_login(world["officer"])
    data = new_request_data(world, document=document())
    response = client.post(f"{LIST}new/", data)
    access_request = AccessRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}{access_request.pk}/"
    assert access_request.status == AccessRequest.Status.DRAFT
    assert access_request.requested_duration_days == 120
    assert access_request.documents.get().title == "End use"


def test_new_request_keeps_what_was_typed_on_an_error(client, world):
    client.force_login(world["officer"])
    data = new_request_data(world, requested_duration_days="999", use_case="Keep this text")
    response = client.post(f"{LIST}new/", data)
    assert response.status_code == 200
    text = page_text(response)
    assert "Keep this text" in text
    assert "usa-error-message" in text
    assert not AccessRequest.objects.exists()


def test_new_request_offers_only_models_in_limited_preview(client, world):
    from vendors.models import FrontierModel
    from vendors.tests.factories import FrontierModelFactory

    registered = FrontierModelFactory(
        vendor=world.vendor, release_phase=FrontierModel.ReleasePhase.REGISTERED
    )
    client.force_login(world["officer"])
    text = page_text(client.get(f"{LIST}new/"))
    assert str(world.frontier_model) in text
    assert str(registered) not in text
    response = client.post(f"{LIST}new/", new_request_data(world, frontier_model=registered.pk))
    assert response.status_code == 200
    assert not AccessRequest.objects.exists()


def test_submit_lists_every_defect_at_once(client, world):
    customer = new_customer(world, attestation=False)
    access_request = services.create_draft_request(
        actor=world["officer"], frontier_model=world.frontier_model, partner_customer=customer
    )
    client.force_login(world["officer"])
    response = client.post(f"{detail(access_request)}submit/", {"version": access_request.version})
    assert response.status_code == 400
    text = page_text(response)
    assert "The request is not complete yet: 5 things to fix." in text
    for fragment in (
        "Describe the use case",
        "Describe the scope",
        "requested duration",
        "attested",
        "supporting",
    ):
        assert fragment in text, fragment
    assert refresh(access_request).status == AccessRequest.Status.DRAFT


def test_submit_from_the_page(client, world):
    access_request = draft(world)
    client.force_login(world["officer"])
    response = client.post(f"{detail(access_request)}submit/", {"version": access_request.version})
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.SUBMITTED
    assert response["Location"] == detail(access_request)
    follow = client.get(response["Location"])
    assert f"Submitted as {access_request.tracking_number}" in page_text(follow)


def test_a_stale_form_is_refused_with_a_clear_message(client, world):
    access_request = draft(world)
    stale = access_request.version
    services.update_draft(
        access_request=access_request, actor=world["vendor_admin"], scope="Changed meanwhile"
    )
    client.force_login(world["officer"])
    response = client.post(f"{detail(access_request)}submit/", {"version": stale})
    assert response.status_code == 400
    assert "changed while you were looking at it" in page_text(response)
    assert refresh(access_request).status == AccessRequest.Status.DRAFT


def test_edit_draft_and_attach_and_remove_a_document(client, world):
    access_request = draft(world, with_document=False)
    client.force_login(world["officer"])
    data = new_request_data(world, scope="Edited scope", version=access_request.version)
    data.pop("document_title")
    assert client.post(f"{detail(access_request)}edit/", data).status_code == 302
    assert refresh(access_request).scope == "Edited scope"
    bad = client.post(f"{detail(access_request)}documents/", {"file": document("x.txt", b"\x00\x01binary")})
    assert bad.status_code == 400
    assert "not a PDF or a plain-text" in page_text(bad)
    assert client.post(f"{detail(access_request)}documents/", {"file": document()}).status_code == 302
    attached = access_request.documents.get()
    download = client.get(f"{detail(access_request)}documents/{attached.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert client.post(f"{detail(access_request)}documents/{attached.pk}/remove/").status_code == 302
    assert not access_request.documents.exists()


def test_documents_of_another_vendor_answer_404(client, world):
    access_request = draft(world)
    attached = access_request.documents.get()
    client.force_login(world["other_officer"])
    assert client.get(f"{detail(access_request)}documents/{attached.pk}/").status_code == 404


def test_withdraw_from_the_page(client, world):
    access_request = submitted(world)
    client.force_login(world["officer"])
    url = f"{detail(access_request)}withdraw/"
    response = client.post(url, {"reason": "", "version": access_request.version})
    assert response.status_code == 200
    assert "usa-error-message" in page_text(response)
    client.post(url, {"reason": "Plans changed", "version": access_request.version})
    assert refresh(access_request).status == AccessRequest.Status.WITHDRAWN


def test_discard_a_draft(client, world):
    access_request = draft(world)
    client.force_login(world["officer"])
    assert client.post(f"{detail(access_request)}discard/").status_code == 302
    assert not AccessRequest.objects.exists()


# ---------------------------------------------------------------------------------------------
# Questions, intent to deny, the decision


def test_answer_a_question_with_documents_and_the_clock_resumes(client, world):
    access_request = submitted(world)
    question = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Which regions?"
    )
    access_request = refresh(access_request)
    client.force_login(world["officer"])
    text = page_text(client.get(detail(access_request)))
    assert "Which regions?" in text
    assert "clock stopped" in text
    url = f"{detail(access_request)}questions/{question.pk}/answer/"
    prefix = f"q{question.pk}"
    empty = client.post(url, {f"{prefix}-answer": "", f"{prefix}-version": access_request.version})
    assert empty.status_code == 400
    response = client.post(
        url,
        {
            f"{prefix}-answer": "U.S. only.",
            f"{prefix}-version": access_request.version,
            f"{prefix}-documents": [document("a.txt"), document("b.txt")],
        },
    )
    assert response.status_code == 302
    assert refresh(question).status == InformationRequest.Status.ANSWERED
    assert refresh(question).documents.count() == 2
    assert refresh(access_request).status == AccessRequest.Status.IN_REVIEW
    assert "clock stopped" not in page_text(client.get(detail(access_request)))


def test_viewers_see_questions_but_get_no_form(client, world):
    access_request = submitted(world)
    services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q?"
    )
    client.force_login(world["viewer"])
    text = page_text(client.get(detail(access_request)))
    assert "Q?" in text
    assert "Send the answer" not in text


def test_respond_to_an_intent_to_deny(client, world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    sign(world, access_request, "ONCD", "non_concur", rationale="No.")
    sign(world, access_request, "OSTP")
    services.resolve_escalation(
        access_request=access_request,
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="Too risky.",
    )
    access_request = refresh(access_request)
    client.force_login(world["officer"])
    text = page_text(client.get(detail(access_request)))
    assert "Intent to deny" in text
    assert "Too risky." in text
    response = client.post(
        f"{detail(access_request)}intent-to-deny/respond/",
        {"response": "We will add controls.", "version": access_request.version},
    )
    assert response.status_code == 302
    assert "You responded on" in page_text(client.get(detail(access_request)))


def test_the_decision_letter_conditions_and_grant_are_shown(client, world):
    access_request = submitted(world)
    sign(
        world, access_request, "DOC", "concur_with_conditions", conditions=[{"text": "Keep logs for a year"}]
    )
    sign(
        world,
        access_request,
        "ONCD",
        "concur_with_conditions",
        conditions=[{"text": "No fine-tuning at all"}],
    )
    sign(world, access_request, "OSTP")
    services.record_decision(access_request=refresh(access_request), actor=world["doc_approver"])
    client.force_login(world["viewer"])
    text = page_text(client.get(detail(access_request)))
    assert "Keep logs for a year" in text
    assert "No fine-tuning at all" in text
    assert "Grant" in text
    assert "Active" in text or "ACTIVE" in text.upper()
    letter = client.get(f"{detail(access_request)}letter/")
    assert letter.status_code == 200
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", letter.content.decode()))
    assert "The request is approved" in words
    oncd = world.agency("ONCD")
    assert f"No fine-tuning at all {oncd.name} ({oncd.code})" in words


# ---------------------------------------------------------------------------------------------
# What a vendor never sees


def test_no_vendor_page_shows_a_draft_position_an_internal_note_or_an_official(client, world):
    # given drafts, a signed non-concurrence, notes and assignments on one case
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    services.assign_officials(referral=doc, actor=world["doc_reviewer"], officials=[world["doc_reviewer"]])
    services.draft_position(
        referral=doc,
        actor=world["doc_reviewer"],
        stance="concur_with_conditions",
        rationale="DRAFT-RATIONALE-SECRET",
        conditions=[{"text": "DRAFT-CONDITION-SECRET"}],
    )
    services.add_internal_note(
        access_request=access_request, actor=world["oncd_approver"], body="NOTE-SECRET"
    )
    sign(world, access_request, "OSTP", "non_concur", rationale="SIGNED-RATIONALE-INTERNAL")
    access_request = refresh(access_request)
    secrets = [
        "DRAFT-RATIONALE-SECRET",
        "DRAFT-CONDITION-SECRET",
        "NOTE-SECRET",
        "SIGNED-RATIONALE-INTERNAL",
        world["doc_reviewer"].full_name,
        world["oncd_approver"].full_name,
        world["ostp_approver"].full_name,
        "Do not concur",
    ]
    # when any member of the vendor opens the list and the request
    for who in ("officer", "vendor_admin", "viewer"):
        client.force_login(world[who])
        for url in (LIST, detail(access_request)):
            text = page_text(client.get(url))
            # then none of it appears
            for secret in secrets:
                assert secret not in text, (who, url, secret)
    text = page_text(client.get(detail(access_request)))
    assert "Review complete" in text
    assert "Reviewing" in text


def test_after_the_decision_the_vendor_sees_the_conditions_but_never_the_positions(client, world):
    access_request = submitted(world)
    sign(world, access_request, "DOC", rationale="")
    sign(
        world,
        access_request,
        "ONCD",
        "concur_with_conditions",
        rationale="ONCD-INTERNAL",
        conditions=[{"text": "C1"}],
    )
    sign(world, access_request, "OSTP")
    services.add_internal_note(access_request=access_request, actor=world["doc_reviewer"], body="NOTE-AFTER")
    access_request = refresh(access_request)
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    client.force_login(world["officer"])
    for url in (detail(access_request), f"{detail(access_request)}letter/"):
        text = page_text(client.get(url))
        assert "C1" in text
        assert "ONCD-INTERNAL" not in text
        assert "NOTE-AFTER" not in text


def test_reverse_names(world):
    assert reverse("approvals:list") == LIST
    assert reverse("approvals:detail", args=["FAR-2026-000001"]) == f"{LIST}FAR-2026-000001/"
