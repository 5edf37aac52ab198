"""The agency side of enforcement: who sees which page and button, confirmation pages that call the
services, and what each page costs in queries at two sizes."""

import re

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import AccessRequest, EnforcementAction, Grant, Letter
from approvals.tests.enforcement_helpers import BASIS, approved, bulk_grants, order, suspend
from approvals.tests.factories import bulk_copies, new_customer, refresh, submitted
from vendors.models import FrontierModel
from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory

pytestmark = pytest.mark.django_db
BASE = "/admin/approvals/enforcementaction/"
Phase = FrontierModel.ReleasePhase


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def model_page(frontier_model):
    return f"{BASE}models/{frontier_model.pk}/"


def get(client, user, url):
    client.force_login(user)
    return client.get(url, follow=True)


# ---------------------------------------------------------------------------------------------
# Who sees what


ACTION_PAGES = ["suspend/", "lift/", "clear-preview/", "clear-ga/", "decline/"]


class TestWhoSeesWhat:
    """Pages and buttons for one approved grant, per role (the grant is built once, above)."""

    @pytest.mark.parametrize(
        ("who", "expected"),
        [
            ("doc_approver", 200),
            ("doc_reviewer", 200),
            ("oncd_approver", 200),  # referred on the model's request
            ("cisa_approver", 404),  # never referred: the model is not theirs to read
            ("auditor", 200),
            ("portal_admin", 200),
            ("officer", 404),
        ],
    )
    def test_model_page_role_matrix(self, client, world, approved_once, who, expected):
        assert get(client, world[who], model_page(world.frontier_model)).status_code == expected

    def test_anonymous_is_sent_to_sign_in(self, client, world, approved_once):
        for url in (model_page(world.frontier_model), f"{model_page(world.frontier_model)}suspend/", BASE):
            response = client.get(url)
            assert response.status_code == 302
            assert "login" in response["Location"]

    @pytest.mark.parametrize("who", ["doc_reviewer", "doc_admin", "oncd_approver", "auditor", "portal_admin"])
    def test_action_pages_answer_404_to_anyone_but_lead_approvers(self, client, world, approved_once, who):
        grant = Grant.objects.get(pk=approved_once)
        pages = [f"{model_page(world.frontier_model)}{p}" for p in ACTION_PAGES]
        pages += [f"{BASE}grants/{grant.pk}/revoke/", f"{BASE}vendors/{world.vendor.pk}/designate/"]
        pages += [f"{BASE}vendors/{world.vendor.pk}/rescind/"]
        for url in pages:
            assert get(client, world[who], url).status_code == 404, url
            client.force_login(world[who])
            # a forged form: 404 for who may not read the record; for who may, the page says why (409)
            refused = client.post(url, BASIS)
            assert refused.status_code in (404, 409), url
            if refused.status_code == 409:
                assert "Nothing was done." in refused.content.decode(), url
        assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
        assert not EnforcementAction.objects.exists()

    @pytest.mark.parametrize("who", ["auditor", "portal_admin", "oncd_approver", "doc_reviewer"])
    def test_no_enforcement_buttons_for_those_who_may_not_act(self, client, world, approved_once, who):
        page = text(get(client, world[who], model_page(world.frontier_model)))
        assert "Pull the model offline" not in page
        assert ">Revoke<" not in page

    def test_the_lead_approver_gets_the_buttons(self, client, world, approved_once):
        page = text(get(client, world["doc_approver"], model_page(world.frontier_model)))
        assert "Pull the model offline" in page
        assert ">Revoke<" in page


def test_incidents_show_beside_the_grants(client, world):
    grant = approved(world)
    incident = services.report_incident(
        frontier_model=world.frontier_model,
        actor=world["officer"],
        category="leaked_weights",
        severity="security_breach",
        description="Weights found online.",
        detected_on=grant.valid_from,
        affected_customers=[grant.partner_customer],
    )
    page = text(get(client, world["oncd_approver"], model_page(world.frontier_model)))
    assert incident.reference in page
    assert grant.partner_customer.legal_name in page
    response = get(client, world["oncd_approver"], f"/admin/approvals/incidentreport/{incident.pk}/change/")
    assert response.status_code == 200
    assert "Weights found online." in text(response)
    assert get(
        client, world["other_officer"], f"/admin/approvals/incidentreport/{incident.pk}/change/"
    ).status_code
    assert get(client, world["auditor"], "/admin/approvals/incidentreport/").status_code == 200


# ---------------------------------------------------------------------------------------------
# Confirmation pages call the services


def test_the_suspension_page_says_what_it_will_affect_then_suspends(
    client, world, django_capture_on_commit_callbacks
):
    grants = [approved(world) for _ in range(2)]
    waiting = submitted(world, partner_customer=new_customer(world))
    client.force_login(world["doc_approver"])
    page = text(client.get(f"{model_page(world.frontier_model)}suspend/"))
    assert "<strong>2 active grants</strong> become suspended" in page
    assert "<strong>1 open request</strong> is put on hold" in page
    for grant in grants:
        assert grant.partner_customer.legal_name in page
    assert waiting.tracking_number in page
    assert 'name="expected_grants" value="2"' in page
    response, job = order(
        client,
        f"{model_page(world.frontier_model)}suspend/",
        {**BASIS, "expected_grants": 2, "expected_requests": 1},
        django_capture_on_commit_callbacks,
    )
    # the order is carried out in the background: the answer is the job's page, which links to
    # the action taken and back to the model
    assert response.status_code == 302
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.status == job.Status.SUCCEEDED, job.error
    action = EnforcementAction.objects.get()
    assert job.result_link == f"{BASE}{action.pk}/change/"
    page = text(client.get(response["Location"]))
    assert "2 grant(s) suspended" in page
    assert f'href="{BASE}{action.pk}/change/"' in page
    assert f'href="{model_page(world.frontier_model)}"' in page
    assert refresh(world.frontier_model).release_phase == Phase.SUSPENDED
    assert all(refresh(g).status == Grant.Status.SUSPENDED for g in grants)


def test_a_suspension_confirmed_on_stale_figures_is_refused_and_shows_the_new_ones(client, world):
    approved(world)
    client.force_login(world["doc_approver"])
    url = f"{model_page(world.frontier_model)}suspend/"
    client.get(url)
    approved(world)  # a grant is made while the page is open
    response = client.post(url, {**BASIS, "expected_grants": 1, "expected_requests": 0})
    assert response.status_code == 200
    page = text(response)
    assert "it showed 1, it is now 2" in page
    assert 'name="expected_grants" value="2"' in page
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW


def test_a_missing_legal_basis_is_shown_next_to_the_field_with_the_findings_kept(client, world):
    approved(world)
    client.force_login(world["doc_approver"])
    response = client.post(f"{model_page(world.frontier_model)}suspend/", {"findings": "Leak."})
    page = text(response)
    assert response.status_code == 200
    assert "This field is required" in page
    assert "> Leak.</textarea>" in page
    assert not EnforcementAction.objects.exists()


def test_lift_revoke_designate_and_rescind_through_their_pages(
    client, world, django_capture_on_commit_callbacks
):
    grant, other = approved(world), approved(world)
    submitted(world, partner_customer=new_customer(world))
    suspend(world)
    client.force_login(world["doc_approver"])
    page = text(client.get(f"{model_page(world.frontier_model)}lift/"))
    assert "<strong>2 grants</strong> the suspension took become active again" in page
    client.post(f"{BASE}grants/{grant.pk}/revoke/", BASIS)
    assert refresh(grant).status == Grant.Status.REVOKED
    page = text(client.get(f"{model_page(world.frontier_model)}lift/"))
    assert "<strong>1 grant</strong> the suspension took becomes active again" in page
    assert "1 grant the suspension took was revoked or expired since" in page
    capture = django_capture_on_commit_callbacks
    order(client, f"{model_page(world.frontier_model)}lift/", {**BASIS, "expected_grants": 1}, capture)
    assert refresh(other).status == Grant.Status.ACTIVE
    page = text(client.get(f"{BASE}vendors/{world.vendor.pk}/designate/"))
    assert "referred to the agencies of the supply-chain-risk routing rule" in page
    assert "→ DOD" in page
    order(client, f"{BASE}vendors/{world.vendor.pk}/designate/", {**BASIS, "expected_requests": 1}, capture)
    assert refresh(world.vendor).is_supply_chain_risk
    order(client, f"{BASE}vendors/{world.vendor.pk}/rescind/", BASIS, capture)
    assert not refresh(world.vendor).is_supply_chain_risk
    kinds = list(EnforcementAction.objects.order_by("pk").values_list("kind", flat=True))
    assert kinds == [
        "suspend_model",
        "revoke_grant",
        "lift_suspension",
        "designate_vendor",
        "rescind_designation",
    ]


def test_clearance_and_findings_through_their_pages(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor, training_compute_flop=3e26)
    EvidenceDocumentFactory(vendor=world.vendor, frontier_model=frontier_model)
    services.submit_for_prerelease_review(frontier_model=frontier_model, actor=world["officer"], summary="S")
    client.force_login(world["oncd_reviewer"])
    assert "Record a finding" in text(client.get(model_page(frontier_model)))
    client.post(
        f"{model_page(frontier_model)}finding/", {"text": "Fine.", "recommendation": "clear_limited_preview"}
    )
    client.force_login(world["doc_approver"])
    page = text(client.get(f"{model_page(frontier_model)}clear-preview/"))
    assert "ONCD</strong> (clear for limited preview): Fine." in page
    response = client.post(
        f"{model_page(frontier_model)}clear-preview/", {"basis": "Ok.", "preview_customer_cap": 4}
    )
    assert response.status_code == 302
    frontier_model = refresh(frontier_model)
    assert (frontier_model.release_phase, frontier_model.preview_customer_cap) == (Phase.LIMITED_PREVIEW, 4)


def test_an_action_page_shows_the_grants_it_took(client, world):
    grants = [approved(world) for _ in range(2)]
    action = suspend(world)
    page = text(get(client, world["auditor"], f"{BASE}{action.pk}/change/"))
    for grant in grants:
        assert grant.partner_customer.legal_name in page
    assert "Lift the suspension" not in page  # the auditor gets no button
    assert "Lift the suspension" in text(get(client, world["doc_approver"], f"{BASE}{action.pk}/change/"))
    # the agencies whose cases it concerns, not every agency (README, "Who sees what")
    assert get(client, world["oncd_approver"], f"{BASE}{action.pk}/change/").status_code == 200
    assert get(client, world["cisa_approver"], f"{BASE}{action.pk}/change/").status_code == 404


# ---------------------------------------------------------------------------------------------
# Query counts at two sizes


@pytest.mark.parametrize("size", [5, 50])
def test_model_and_confirmation_pages_cost_the_same_for_5_and_50_grants(
    client, world, django_assert_max_num_queries, size
):
    bulk_grants(world, size, share=True)
    for _ in range(2):
        services.report_incident(
            frontier_model=world.frontier_model,
            actor=world["officer"],
            category="other",
            severity="serious",
            description="x",
            detected_on=timezone.localdate(refresh(world.frontier_model).created_at),
        )
    client.force_login(world["doc_approver"])
    for url, bound in (
        # 19: one more since enforcement actions are shared by the cases they concern (issue 19)
        (model_page(world.frontier_model), 19),
        # 17: three more for who is told (the officials mailed, the customers' security contacts),
        # the same at both sizes; 19: two more (issue 16) for the customers a suspension may be
        # limited to and the suspension in force (of chosen customers, whatever the phase)
        (f"{model_page(world.frontier_model)}suspend/", 19),
    ):
        client.get(url)
        with django_assert_max_num_queries(bound):
            assert client.get(url).status_code == 200
    suspend(world)
    url = f"{model_page(world.frontier_model)}lift/"
    client.get(url)
    # one more for the officials mailed; three more (issue 16) for the ids the page sends back (grants
    # restored, grants lapsing) and the grants ended since, named
    with django_assert_max_num_queries(23):
        assert client.get(url).status_code == 200


def revoke_in_bulk(revoked, grants):
    """Revoke ``grants`` as the services revoked ``revoked``: copies of its revocation (with its
    object permissions and its letter), one per grant, and the grants marked revoked in one
    update. For the size test below: 45 more revocations through the services cost seconds."""
    if not grants:
        return
    revoked = refresh(revoked)
    revocation = EnforcementAction.objects.get(grant=revoked, kind="revoke_grant")
    copied = {
        (Grant, revoked.pk): [g.pk for g in grants],
        (AccessRequest, revoked.access_request_id): [g.access_request_id for g in grants],
    }
    bulk_copies(revocation, len(grants), copied=copied)
    for letter in Letter.objects.filter(enforcement_action=revocation):
        bulk_copies(letter, len(grants), copied=copied, reference=lambda n, t=letter: f"{t.reference}-{n}")
    Grant.objects.filter(pk__in=[g.pk for g in grants]).update(
        status=revoked.status,
        status_changed_at=revoked.status_changed_at,
        status_reason=revoked.status_reason,
    )


@pytest.mark.parametrize("size", [5, 50])
def test_changelists_cost_the_same_for_5_and_50_rows(client, world, django_assert_max_num_queries, size):
    grants = bulk_grants(world, size, share=True)
    for grant in grants[:5]:  # five through the services, the others copies of the fifth's revocation
        services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    revoke_in_bulk(grants[4], grants[5:])
    assert EnforcementAction.objects.filter(kind="revoke_grant", grant__status="revoked").count() == size
    incident = services.report_incident(
        frontier_model=world.frontier_model,
        actor=world["officer"],
        category="other",
        severity="serious",
        description="x",
        detected_on=grants[0].valid_from,
    )
    bulk_copies(incident, size - 1)  # one incident per grant, as filed
    client.force_login(world["doc_approver"])
    for url in (BASE, f"{BASE}models/", f"{BASE}vendors/", "/admin/approvals/incidentreport/"):
        client.get(url)
        with django_assert_max_num_queries(11):
            assert client.get(url).status_code == 200
