"""The case page of an access request: everything about the case, and buttons that call the
services (review and enforcement) for the roles that may use them."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from approvals import services
from approvals.models import Condition, IntentToDeny
from approvals.tests.conftest import fresh
from approvals.tests.factories import all_concur, referral, refresh, sign, submitted
from conftest import RolledBackAtTheEnd
from portal.errors import PortalError
from vendors.tests.factories import EvidenceDocumentFactory

pytestmark = pytest.mark.django_db

BASIS = {"legal_basis": "Statute 1, section 2.", "findings": "Findings of fact."}


def case(access_request):
    return f"/admin/approvals/accessrequest/{access_request.pk}/change/"


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("doc_reviewer", 200),
        ("doc_approver", 200),
        ("oncd_approver", 200),
        ("cisa_approver", 404),
        ("auditor", 200),
        ("portal_admin", 200),
        ("officer", 404),
        ("other_officer", 404),
    ],
)
def test_case_page_role_matrix(client, world, who, expected):
    access_request = submitted(world)
    client.force_login(world[who])
    assert client.get(case(access_request), follow=True).status_code == expected


def test_evidence_links_go_to_the_permission_checked_download(client, world):
    card = EvidenceDocumentFactory(frontier_model=world.frontier_model, title="Atlas model card")
    access_request = submitted(world)
    client.force_login(world["oncd_approver"])
    page = text(client.get(case(access_request)))
    url = f"/admin/vendors/evidencedocument/{card.pk}/download/"
    assert "Atlas model card" in page
    assert url in page
    assert client.get(url).status_code == 200
    assert f"/admin/approvals/accessrequest/{access_request.pk}/documents/" in page
    client.force_login(world["cisa_approver"])  # not referred
    assert client.get(url).status_code == 404


def test_designation_status_conditions_by_agency_and_the_decision(client, world):
    access_request = submitted(world)
    client.force_login(world["doc_reviewer"])
    assert "not designated a supply-chain risk" in text(client.get(case(access_request)))
    sign(world, access_request, "ONCD", "concur_with_conditions", conditions=[{"text": "ONCD seat cap"}])
    sign(
        world,
        access_request,
        "OSTP",
        "concur_with_conditions",
        conditions=[{"kind": "us_data_residency", "text": ""}],
    )
    sign(world, access_request, "DOC")
    services.record_decision(access_request=refresh(access_request), actor=world["doc_approver"])
    services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    page = text(client.get(case(access_request)))
    assert "designated a supply-chain risk</strong> on " in page
    conditions = re.search(r'id="c-h">(.*?)</section>', page).group(1)
    assert re.search(r"<th scope=\"row\">ONCD</th><td>ONCD seat cap</td>", conditions)
    assert re.search(r"<th scope=\"row\">OSTP</th><td>U.S.-only data residency</td>", conditions)
    assert "Read the letter" in page
    assert "Vendor designated a supply-chain risk" in page  # the enforcement action on the vendor


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("doc_approver", True),
        ("doc_approver2", True),
        ("doc_reviewer", False),
        ("oncd_approver", False),
        ("auditor", False),
        ("portal_admin", False),
    ],
)
def test_enforcement_buttons_for_lead_approvers_only(client, world, who, sees):
    access_request = all_concur(world, submitted(world))
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    client.force_login(world[who])
    page = text(client.get(case(access_request)))
    buttons = re.search(r'aria-label="Enforcement">(.*?)</div>', page)
    assert bool(buttons) is sees
    if sees:
        urls = re.findall(r'href="([^"]+)"', buttons.group(1))
        labels = buttons.group(1)
        assert "Suspend the model" in labels
        assert "Revoke the grant" in labels
        assert "Designate the vendor a supply-chain risk" in labels
        for url in urls:
            assert client.get(url).status_code == 200, url  # each opens its confirmation page


def _history_of(obj):
    return list(type(obj).history.filter(id=obj.pk).order_by("history_id"))


def test_every_button_calls_its_service_and_leaves_a_reason(client, world):
    # given a case where ONCD will object
    access_request = submitted(world)
    base = f"/admin/approvals/accessrequest/{access_request.pk}"
    reviewer, approver = world["doc_reviewer"], world["doc_approver"]
    client.force_login(reviewer)
    assert client.post(f"{base}/assign/", {"officials": [reviewer.pk]}).status_code == 302
    assert client.post(f"{base}/ask/", {"question": "Which regions?"}).status_code == 302
    services.answer_information_request(
        information_request=access_request.information_requests.get(), actor=world["officer"], answer="U.S."
    )
    assert client.post(f"{base}/note/", {"body": "Looks routine."}).status_code == 302
    assert client.post(f"{base}/position/", {"stance": "concur", "rationale": ""}).status_code == 302
    client.force_login(approver)
    drafted_at = re.search(r'name="drafted_at" value="([^"]+)"', client.get(f"{base}/sign/").content.decode())
    assert client.post(f"{base}/sign/", {"drafted_at": drafted_at.group(1)}).status_code == 302
    sign(world, access_request, "ONCD", "non_concur", rationale="Too risky.")
    sign(world, access_request, "OSTP")  # the last signature escalates the case by itself
    response = client.post(f"{base}/resolve/", {"outcome": "intent_to_deny", "rationale": "Deny it."})
    assert response.status_code == 302
    # then each step is in the history with the official who took it and a reason
    doc = referral(access_request, "DOC")
    reasons = [(r.history_user, r.history_change_reason) for r in _history_of(doc)]
    assert (reviewer, f"Assigned to {reviewer.full_name} by {reviewer.full_name}.") in reasons
    assert any(user == reviewer and reason.startswith("Position drafted") for user, reason in reasons)
    assert any(user == approver and reason.startswith("Position signed") for user, reason in reasons)
    request_reasons = [
        (r.history_user, r.history_change_reason) for r in _history_of(refresh(access_request))
    ]
    assert any(user == reviewer and "asked the vendor" in reason for user, reason in request_reasons)
    assert (world["ostp_approver"], "Escalated: the agencies did not all concur.") in request_reasons
    note = access_request.internal_notes.get()
    assert _history_of(note)[0].history_change_reason.startswith("Internal note by")
    intent = IntentToDeny.objects.get(access_request=access_request)
    assert _history_of(intent)[0].history_user == approver


def test_reviewers_see_only_the_buttons_they_may_use(client, world):
    access_request = submitted(world)
    client.force_login(world["doc_reviewer"])
    page = text(client.get(case(access_request)))
    assert "Assign to me" in page
    assert "Sign the position" not in page
    assert "Record the decision" not in page
    assert "Suspend the model" not in page
    # and the pages behind the buttons they do not get refuse them
    services.draft_position(
        referral=referral(access_request, "DOC"), actor=world["doc_approver"], stance="concur"
    )
    url = f"/admin/approvals/accessrequest/{access_request.pk}/sign/"
    assert client.get(url).status_code == 404
    refused = client.post(url, {"drafted_at": "x"})  # a forged form: the page says why, nothing done
    assert refused.status_code == 409
    assert "Only agency approvers of DOC can sign a position" in refused.content.decode()
    assert not refresh(referral(access_request, "DOC")).position.is_signed
    with pytest.raises(PortalError, match="Only agency approvers of DOC can sign a position"):
        services.sign_position(referral=referral(access_request, "DOC"), actor=world["doc_reviewer"])


def test_other_agencies_buttons_and_forms_are_404(client, world):
    access_request = submitted(world)
    client.force_login(world["cisa_approver"])
    for action in ("assign", "position", "sign", "ask", "note", "decide", "escalate", "resolve"):
        assert client.get(f"/admin/approvals/accessrequest/{access_request.pk}/{action}/").status_code == 404


def _enrich(world, access_request, count):
    for i in range(count):
        services.add_internal_note(
            access_request=access_request, actor=world["doc_reviewer"], body=f"note {i}"
        )
        services.add_internal_note(
            access_request=access_request, actor=world["oncd_approver"], body=f"note {i}"
        )
        services.issue_information_request(
            access_request=access_request, actor=world["doc_reviewer"], question="Q"
        )
        services.answer_information_request(
            information_request=access_request.information_requests.filter(status="open").get(),
            actor=world["officer"],
            answer="A",
        )


CASE_READERS = ["doc_reviewer", "doc_approver", "auditor"]


@pytest.fixture(scope="class")
def case_page_queries(module_world, django_db_blocker):
    """The case page's query count for each of ``CASE_READERS`` with 2 and with 12 questions and
    notes: the case is enriched once for all of them, and rolled back after the class."""
    counts = {who: [] for who in CASE_READERS}
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            world = fresh(module_world)
            access_request = submitted(world)
            sign(
                world,
                access_request,
                "ONCD",
                "concur_with_conditions",
                conditions=[{"text": "A"}, {"text": "B"}],
            )
            for size in (2, 10):
                _enrich(world, access_request, size)
                for who in CASE_READERS:
                    client = Client()
                    client.force_login(world[who])
                    client.get(case(access_request))
                    with CaptureQueriesContext(connection) as queries:
                        assert client.get(case(access_request)).status_code == 200
                    counts[who].append(len(queries))
        yield counts


class TestCasePageSize:
    @pytest.mark.parametrize("who", CASE_READERS)
    def test_case_page_costs_the_same_with_more_questions_notes_and_history(self, case_page_queries, db, who):
        counts = case_page_queries[who]
        print(who, counts)
        assert counts[0] == counts[1], counts
        assert Condition.objects.count() == 2
