"""The one action view behind every button of the agency admin: every button opens a declared
``ActionPage``; a page whose button is not shown answers 404, and a form posted after its button
went away is answered with the page and the rule's reason (409), nothing done."""

import re

import pytest
from django.urls import resolve

from approvals import policies, selectors, services
from approvals.agency_admin.case_pages import CASE_ACTIONS
from approvals.agency_admin.cases import case_actions, enforcement_actions
from approvals.agency_admin.enforcement import model_actions
from approvals.agency_admin.enforcement_pages import ENFORCEMENT_ACTIONS
from approvals.models import EnforcementAction
from approvals.tests.enforcement_helpers import BASIS, bulk_grants, suspend
from approvals.tests.factories import refresh, sign, submitted
from vendors.models import FrontierModel

pytestmark = pytest.mark.django_db
BASE = "/admin/approvals/enforcementaction/"
DECLARED = {f"approvals_accessrequest_{p.name}" for p in CASE_ACTIONS} | {
    f"approvals_enforcementaction_{p.name}" for p in ENFORCEMENT_ACTIONS
}


def test_every_page_is_declared_once_under_its_old_name():
    assert len(DECLARED) == len(CASE_ACTIONS) + len(ENFORCEMENT_ACTIONS) == 21
    for name in (
        "assign",
        "assign_me",
        "position",
        "sign",
        "ask",
        "note",
        "decide",
        "escalate",
        "resolve",
        "finalise",
        "return_incomplete",
        "return_without_action",
    ):
        assert f"approvals_accessrequest_{name}" in DECLARED
    for name in ("suspend", "lift", "revoke", "designate", "rescind", "clear_preview", "clear_ga"):
        assert f"approvals_enforcementaction_{name}" in DECLARED


def test_every_button_opens_a_declared_action_page(client, world):
    # given a case an approver of the lead agency can escalate, with a grant on its model
    grant = bulk_grants(world, 1, share=True)[0]
    access_request = submitted(world)
    sign(world, access_request, "ONCD", "non_concur", rationale="No.")
    approver = world["doc_approver"]
    case = selectors.agency_case(approver, access_request)
    model = refresh(world.frontier_model)
    oversight = selectors.model_oversight(approver, model)
    buttons = [
        *case_actions(approver, access_request, case),
        *enforcement_actions(approver, access_request, {**case, "grant": grant}),
        *model_actions(approver, model, oversight),
    ]
    # then each button resolves to a declared page, and opens for the person who was shown it
    assert len(buttons) >= 6, buttons
    client.force_login(approver)
    for label, url in buttons:
        assert resolve(url).url_name in DECLARED, label
        assert client.get(url).status_code == 200, label


def _warning(response):
    """The one warning message of a page reached after a late order (never a success message)."""
    page = response.content.decode()
    assert '<li class="success">' not in page
    (warning,) = re.findall(r'<li class="warning">(.*?)</li>', page, flags=re.S)
    return warning


def test_pages_of_buttons_not_shown_in_this_state_answer_404_and_a_late_post_is_told_why(client, world):
    grant = bulk_grants(world, 1, share=True)[0]
    approver = world["doc_approver"]
    client.force_login(approver)
    model = f"{BASE}models/{world.frontier_model.pk}"
    # not suspended: no Lift button, no Lift page; no review open: no clearance pages
    for page in ("lift", "clear-preview", "clear-ga", "decline", "finding"):
        assert client.get(f"{model}/{page}/").status_code == 404, page
        late = client.post(f"{model}/{page}/", {**BASIS, "basis": "x", "text": "x"})
        assert late.status_code == 409, page
        assert "Nothing was done." in late.content.decode(), page
    assert "is not suspended" in client.post(f"{model}/lift/", BASIS).content.decode()
    # suspended: no Pull-offline page any more; the form sent from the page opened before is told,
    # in a warning (never a success), that someone already did it, who and when (issue 16)
    suspend(world)
    assert not policies.can_suspend_model(approver, refresh(world.frontier_model))
    assert client.get(f"{model}/suspend/").status_code == 404
    late = client.post(f"{model}/suspend/", BASIS, follow=True)
    assert "already pulled offline by" in _warning(late)
    # revoked: no Revoke page; designated: no Designate page
    services.revoke_grant(grant=grant, actor=approver, **BASIS)
    services.designate_supply_chain_risk(vendor=world.vendor, actor=approver, **BASIS)
    for url, why in (
        (f"{BASE}grants/{grant.pk}/revoke/", "was already revoked by"),
        (f"{BASE}vendors/{world.vendor.pk}/designate/", "was already designated a supply-chain risk by"),
    ):
        assert client.get(url).status_code == 404, url
        late = client.post(url, BASIS, follow=True)
        assert why in _warning(late), url
    kinds = list(EnforcementAction.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == ["suspend_model", "revoke_grant", "designate_vendor"]  # nothing more was done
    assert refresh(world.frontier_model).release_phase == FrontierModel.ReleasePhase.SUSPENDED


def test_a_late_post_on_a_case_page_is_told_that_another_approver_signed_first(client, world):
    # given DOC's position drafted by the reviewer and signed by one approver while another has the page open
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    client.force_login(world["doc_approver2"])
    response = client.post(f"/admin/approvals/accessrequest/{access_request.pk}/sign/", {})
    assert response.status_code == 409
    assert "a signed position is final" in response.content.decode()
    assert client.get(f"/admin/approvals/accessrequest/{access_request.pk}/sign/").status_code == 404


def test_a_late_post_by_someone_who_may_not_read_the_record_is_404(client, world):
    bulk_grants(world, 1, share=True)
    suspend(world)
    client.force_login(world["other_officer"])
    assert client.post(f"{BASE}models/{world.frontier_model.pk}/suspend/", BASIS).status_code in (302, 404)
    client.force_login(world["cisa_approver"])  # CISA holds no referral on the model
    assert client.post(f"{BASE}models/{world.frontier_model.pk}/lift/", BASIS).status_code == 404


def test_a_refused_post_keeps_what_was_typed_and_names_the_reason(client, world):
    bulk_grants(world, 1, share=True)
    client.force_login(world["doc_approver"])
    url = f"{BASE}models/{world.frontier_model.pk}/suspend/"
    # the page showed one active grant; another is made before the approver confirms
    bulk_grants(world, 1, share=True)
    response = client.post(url, {**BASIS, "expected_grants": 1, "expected_requests": 0})
    page = response.content.decode()
    assert response.status_code == 200
    assert "it showed 1, it is now 2" in page
    assert BASIS["findings"].replace("'", "&#x27;") in page
    assert not EnforcementAction.objects.exists()
