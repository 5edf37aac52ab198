"""The agency side in the admin: scoped lists, the case page, buttons that call the services."""

import re

import pytest

from approvals import services
from approvals.models import (
    AccessRequest,
    Agency,
    Decision,
    InformationRequest,
    InternalNote,
    Position,
    Referral,
    RoutingRule,
)
from approvals.tests.conftest import fresh
from approvals.tests.factories import (
    all_concur,
    bulk_case_copies,
    draft,
    new_customer,
    referral,
    refresh,
    sign,
    submitted,
)
from conftest import RolledBackAtTheEnd
from portal.accounts.models import Organisation
from portal.errors import PortalError
from portal.tests.factories import OrganisationFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/approvals/accessrequest/",
    "/admin/approvals/referral/",
    "/admin/approvals/informationrequest/",
    "/admin/approvals/grant/",
    "/admin/approvals/agency/",
    "/admin/approvals/routingrule/",
]


def case(access_request):
    return f"/admin/approvals/accessrequest/{access_request.pk}/change/"


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


# ---------------------------------------------------------------------------------------------
# Who sees which page and which rows


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("doc_reviewer", 200),
        ("doc_approver", 200),
        ("oncd_approver", 200),
        ("cisa_approver", 404),  # not referred
        ("auditor", 200),
        ("portal_admin", 200),
        ("officer", 404),
    ],
)
def test_case_page_role_matrix(client, world, who, expected):
    access_request = submitted(world)
    client.force_login(world[who])
    # vendors are sent to the admin's sign-in, which does not exist for them
    response = client.get(case(access_request), follow=True)
    assert response.status_code == expected


def test_anonymous_is_sent_to_sign_in(client, world):
    access_request = submitted(world)
    response = client.get(case(access_request))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"] or "/admin/login/" in response["Location"]


def test_lists_show_only_what_is_referred_to_the_agency(client, world):
    routine = submitted(world)
    critical = submitted(world, partner_customer=new_customer(world, sector="energy"))
    client.force_login(world["cisa_approver"])
    page = text(client.get("/admin/approvals/accessrequest/"))
    assert critical.tracking_number in page
    assert routine.tracking_number not in page
    referrals = text(client.get("/admin/approvals/referral/"))
    assert re.findall(r'class="field-agency[^"]*">(\w+)<', referrals) == ["CISA"]


def test_nobody_outside_the_vendor_s_team_sees_a_draft_not_even_auditors(client, world):
    """Issue 13: drafts are private to the vendor's team until submitted."""
    pending = draft(world)
    for who in ("doc_approver", "auditor", "portal_admin"):
        client.force_login(world[who])
        assert client.get(case(pending)).status_code == 404, who


@pytest.fixture(scope="class", params=[5, 50])
def backlog(request, module_world, django_db_blocker):
    """``size`` requests, each asked and answered a question, assigned at DOC and decided (five
    through the services, the others bulk copies of the fifth case): built once per size for
    the class below, and rolled back after its tests of that size."""
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            world = fresh(module_world)
            for _ in range(5):  # five through the services, the rest copies of the fifth in bulk
                access_request = submitted(world, partner_customer=new_customer(world))
                services.issue_information_request(
                    access_request=access_request, actor=world["doc_reviewer"], question="Q?"
                )
                services.answer_information_request(
                    information_request=access_request.information_requests.get(),
                    actor=world["officer"],
                    answer="A.",
                )
                services.assign_officials(
                    referral=referral(access_request, "DOC"),
                    actor=world["doc_reviewer"],
                    officials=[world["doc_reviewer"]],
                )
                services.record_decision(
                    access_request=all_concur(world, access_request), actor=world["doc_approver"]
                )
            bulk_case_copies(access_request, request.param - 5)
        yield request.param


class TestChangelists:
    """The changelists with a backlog of 5 and of 50 requests (the backlog lives as long as the
    class, so no other test of the module sees it)."""

    @pytest.mark.parametrize("url", CHANGELISTS)
    def test_changelists_cost_the_same_for_5_and_50_rows(
        self, client, world, backlog, django_assert_max_num_queries, url
    ):
        client.force_login(world["doc_approver"])
        client.get(url)
        with django_assert_max_num_queries(16):
            response = client.get(url)
        assert response.status_code == 200
        if url.endswith(("accessrequest/", "referral/", "informationrequest/", "grant/")):
            # DOC's approver sees one row per request of the backlog
            assert re.search(r'class="paginator">\s*(\d+)', text(response)).group(1) == str(backlog)


def test_case_page_query_count_is_bounded(client, world, django_assert_max_num_queries):
    access_request = submitted(world)
    sign(world, access_request, "ONCD", "concur_with_conditions", conditions=[{"text": "A"}, {"text": "B"}])
    services.add_internal_note(access_request=access_request, actor=world["doc_reviewer"], body="n")
    client.force_login(world["doc_reviewer"])
    with django_assert_max_num_queries(45):
        assert client.get(case(access_request)).status_code == 200


# ---------------------------------------------------------------------------------------------
# What each agency reads on the case page


def test_agencies_see_each_others_signed_positions_only_and_their_own_notes(client, world):
    access_request = submitted(world)
    services.draft_position(
        referral=referral(access_request, "ONCD"),
        actor=world["oncd_approver"],
        stance="non_concur",
        rationale="ONCD-DRAFT-RATIONALE",
    )
    sign(
        world,
        access_request,
        "OSTP",
        "concur_with_conditions",
        conditions=[{"text": "OSTP-SIGNED-CONDITION"}],
    )
    services.add_internal_note(access_request=access_request, actor=world["oncd_approver"], body="ONCD-NOTE")
    services.add_internal_note(access_request=access_request, actor=world["doc_reviewer"], body="DOC-NOTE")

    client.force_login(world["doc_reviewer"])
    page = text(client.get(case(access_request)))
    assert "OSTP-SIGNED-CONDITION" in page
    assert "ONCD-DRAFT-RATIONALE" not in page
    assert "DOC-NOTE" in page
    assert "ONCD-NOTE" not in page

    client.force_login(world["oncd_approver"])
    page = text(client.get(case(access_request)))
    assert "ONCD-DRAFT-RATIONALE" in page
    assert "ONCD-NOTE" in page
    assert "DOC-NOTE" not in page

    client.force_login(world["auditor"])
    page = text(client.get(case(access_request)))
    for fragment in ("ONCD-DRAFT-RATIONALE", "ONCD-NOTE", "DOC-NOTE", "OSTP-SIGNED-CONDITION"):
        assert fragment in page


def test_auditors_get_no_buttons_and_no_forms(client, world):
    access_request = all_concur(world, submitted(world))
    client.force_login(world["auditor"])
    page = text(client.get(case(access_request)))
    assert 'aria-label="Actions on this case"' not in page
    assert "Save the note" not in page
    for action in (
        "assign",
        "position",
        "sign",
        "ask",
        "note",
        "decide",
        "escalate",
        "resolve",
        "finalise-denial",
    ):
        url = f"/admin/approvals/accessrequest/{access_request.pk}/{action}/"
        assert client.get(url).status_code == 404, action
        # a forged form is told why (409), and nothing is done
        refused = client.post(url, {"rationale": "x", "body": "x"})
        assert refused.status_code == 409, action
        assert "Nothing was done." in refused.content.decode(), action
    assert not Decision.objects.exists()
    assert not InternalNote.objects.exists()


# ---------------------------------------------------------------------------------------------
# Buttons call the services


def test_the_buttons_offered_follow_role_and_state(client, world):
    access_request = submitted(world)
    client.force_login(world["doc_reviewer"])
    page = text(client.get(case(access_request)))
    assert "Assign to me" in page
    assert "Ask the vendor" in page
    assert "Draft the position" not in page
    client.force_login(world["doc_approver"])
    page = text(client.get(case(access_request)))
    assert "Assign officials" in page
    assert "Draft the position" in page
    assert "Record the decision" not in page
    access_request = all_concur(world, access_request)
    page = text(client.get(case(access_request)))
    assert "Record the decision" in page
    client.force_login(world["oncd_approver"])
    assert "Record the decision" not in text(client.get(case(access_request)))


def test_review_through_the_admin_forms(client, world):
    # given a submitted request
    access_request = submitted(world)
    base = f"/admin/approvals/accessrequest/{access_request.pk}"
    reviewer, approver = world["doc_reviewer"], world["doc_approver"]
    # the reviewer takes the referral and asks the vendor a question
    client.force_login(reviewer)
    response = client.post(f"{base}/assign/", {"officials": [reviewer.pk], "version": access_request.version})
    assert response.status_code == 302, text(response)
    access_request = refresh(access_request)
    response = client.post(f"{base}/ask/", {"question": "Which regions?", "version": access_request.version})
    assert response.status_code == 302
    question = InformationRequest.objects.get()
    assert question.asked_by == reviewer
    services.answer_information_request(information_request=question, actor=world["officer"], answer="U.S.")
    access_request = refresh(access_request)
    # the reviewer drafts a position with a structured condition
    response = client.post(
        f"{base}/position/",
        {
            "stance": "concur_with_conditions",
            "rationale": "",
            "condition_0_kind": "seat_cap",
            "condition_0_text": "",
            "condition_0_seat_cap": "50",
            "version": access_request.version,
        },
    )
    assert response.status_code == 302, text(response)
    position = Position.objects.get(referral__agency__code="DOC")
    assert position.conditions.get().seat_cap == 50
    # the approver signs it; a second signature is refused with a message
    client.force_login(approver)
    sign_page = client.get(f"{base}/sign/")
    drafted_at = re.search(r'name="drafted_at" value="([^"]+)"', sign_page.content.decode()).group(1)
    response = client.post(f"{base}/sign/", {"drafted_at": drafted_at, "version": ""})
    assert response.status_code == 302
    # once signed, the button is gone and so is its page; a late POST is told why: the service is
    # not called
    assert "Sign the position" not in text(client.get(case(access_request)))
    assert client.get(f"{base}/sign/").status_code == 404
    late = client.post(f"{base}/sign/", {"drafted_at": drafted_at, "version": ""})
    assert late.status_code == 409
    assert "a signed position is final" in late.content.decode()
    with pytest.raises(PortalError, match="a signed position is final"):
        services.sign_position(referral=referral(access_request, "DOC"), actor=approver)
    # the other agencies sign; the approver records the decision
    sign(world, access_request, "ONCD")
    sign(world, access_request, "OSTP")
    access_request = refresh(access_request)
    response = client.post(f"{base}/decide/", {"rationale": "All concur.", "version": access_request.version})
    assert response.status_code == 302
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.APPROVED
    assert access_request.history.filter(history_user=approver).exists()
    letter = client.get(f"{base}/letter/")
    assert "The request is <strong>approved</strong>" in text(letter)


def test_a_stale_admin_form_is_refused(client, world):
    access_request = all_concur(world, submitted(world))
    stale = access_request.version - 1
    client.force_login(world["doc_approver"])
    response = client.post(
        f"/admin/approvals/accessrequest/{access_request.pk}/decide/", {"rationale": "", "version": stale}
    )
    assert response.status_code == 200
    assert "changed while you were looking at it" in text(response)
    assert not Decision.objects.exists()


def test_escalation_and_denial_through_the_admin(client, world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    sign(world, access_request, "ONCD", "non_concur", rationale="No.")
    sign(world, access_request, "OSTP")
    base = f"/admin/approvals/accessrequest/{access_request.pk}"
    client.force_login(world["doc_approver"])
    # the last signature escalated the case by itself: there is no escalation left to make by hand
    assert refresh(access_request).status == AccessRequest.Status.ESCALATED
    # (a late POST to the escalation page answers 409 with the reason, and changes nothing)
    assert client.post(f"{base}/escalate/", {"reason": "ONCD objects."}).status_code == 409
    response = client.post(f"{base}/resolve/", {"outcome": "intent_to_deny", "rationale": "Too risky."})
    assert response.status_code == 302
    services.respond_to_intent_to_deny(
        access_request=access_request, actor=world["officer"], response="Please."
    )
    assert "Finalise the denial" in text(client.get(case(access_request)))
    assert client.post(f"{base}/finalise-denial/", {"rationale": ""}).status_code == 302
    assert refresh(access_request).status == AccessRequest.Status.DENIED


def test_notes_through_the_admin_belong_to_the_agency(client, world):
    access_request = submitted(world)
    client.force_login(world["oncd_approver"])
    response = client.post(f"/admin/approvals/accessrequest/{access_request.pk}/note/", {"body": "Check it."})
    assert response.status_code == 302
    assert InternalNote.objects.get().agency.code == "ONCD"


def test_referral_and_question_rows_open_the_case(client, world):
    access_request = submitted(world)
    client.force_login(world["doc_approver"])
    doc = referral(access_request, "DOC")
    response = client.get(f"/admin/approvals/referral/{doc.pk}/change/")
    assert response.status_code == 302
    assert response["Location"] == case(access_request)
    oncd = referral(access_request, "ONCD")
    assert client.get(f"/admin/approvals/referral/{oncd.pk}/change/").status_code in (302, 404)


# ---------------------------------------------------------------------------------------------
# Reference data: agencies and routing rules


def test_portal_admins_edit_routing_rules_with_a_reason_and_officials_only_read(client, world):
    rule = RoutingRule.objects.get(agency__code="CISA")
    url = f"/admin/approvals/routingrule/{rule.pk}/change/"
    data = {
        "agency": rule.agency_id,
        "condition": rule.condition,
        "required": "",
        "is_active": "on",
        "note": "Optional",
    }
    client.force_login(world["doc_approver"])
    assert client.get(url).status_code == 200
    client.post(url, data)
    assert refresh(rule).required is True
    client.force_login(world["portal_admin"])
    assert client.post(url, data).status_code == 302
    rule = refresh(rule)
    assert rule.required is False
    record = rule.history.order_by("-history_id").first()
    assert record.history_user == world["portal_admin"]
    assert "applies to requests submitted from now on" in record.history_change_reason


def test_portal_admins_add_an_agency_through_the_service(client, world):
    organisation = OrganisationFactory(kind=Organisation.Kind.AGENCY, name="Department of Energy")
    client.force_login(world["portal_admin"])
    response = client.post(
        "/admin/approvals/agency/add/",
        {
            "organisation": organisation.pk,
            "code": "DOE",
            "name": "Department of Energy",
            "requires_two_persons": "on",
        },
    )
    assert response.status_code == 302, text(response)
    agency = Agency.objects.get(code="DOE")
    assert agency.officials_group.name == "agency DOE officials"
    assert agency.requires_two_persons


def test_referral_clock_column(client, world):
    access_request = submitted(world)
    client.force_login(world["doc_approver"])
    page = text(client.get("/admin/approvals/referral/"))
    assert "due in 30 days" in page
    services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q"
    )
    assert "clock stopped" in text(client.get("/admin/approvals/referral/"))
    assert Referral.objects.filter(clock_stopped_at__isnull=False).count() == 3
