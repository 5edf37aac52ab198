"""The vendor's enforcement pages: role matrix, forms through the services, panels, query counts."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import AccessRequest, IncidentReport, PrereleaseReview
from approvals.tests.conftest import fresh
from approvals.tests.enforcement_helpers import BASIS, approved, bulk_grants, suspend
from approvals.tests.factories import bulk_copies, refresh, submitted
from conftest import RolledBackAtTheEnd
from vendors.models import FrontierModel
from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory

pytestmark = pytest.mark.django_db
Phase = FrontierModel.ReleasePhase


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def report(world, **kwargs):
    values = {
        "category": "leaked_weights",
        "severity": "security_breach",
        "description": "Weights found on a file-sharing site.",
        "detected_on": timezone.localdate(),
    }
    values.update(kwargs)
    return services.report_incident(frontier_model=world.frontier_model, actor=world["officer"], **values)


@pytest.fixture(scope="class")
def built_records(module_world, django_db_blocker):
    """A grant, a suspension, an incident and a designation of the world's vendor: built once
    for the class's tests and rolled back after them (each test runs in a savepoint of its own,
    so what one test writes is gone before the next)."""
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            world = fresh(module_world)
            grant = approved(world)
            submitted(world)  # an open request keeps the vendor known to DOC after the suspension
            action = suspend(world)
            incident = report(world)
            designation = services.designate_supply_chain_risk(
                vendor=world.vendor, actor=world["doc_approver"], **BASIS
            )
            built = {"grant": grant, "action": action, "incident": incident, "designation": designation}
            pks = {name: (type(obj), obj.pk) for name, obj in built.items()}
        yield pks


@pytest.fixture
def records(world, built_records):
    """The class's records, read again for each test (fresh Python objects, same rows)."""
    return {name: model.objects.get(pk=pk) for name, (model, pk) in built_records.items()}


def pages(world, records):
    return {
        "grants": ("/vendor/grants/", "read"),
        "renew": (f"/vendor/grants/{records['grant'].pk}/renew/", "act"),
        "incidents": ("/vendor/incidents/", "read"),
        "incident": (f"/vendor/incidents/{records['incident'].pk}/", "read"),
        "complete": (f"/vendor/incidents/{records['incident'].pk}/complete/", "act"),
        "report": (f"/vendor/models/{world.frontier_model.pk}/incidents/new/", "act"),
        "review": (f"/vendor/models/{world.frontier_model.pk}/review/", "act"),
        "designation": ("/vendor/designation/", "read"),
        "action": (f"/vendor/enforcement/{records['action'].pk}/", "read"),
    }


class TestWithRecords:
    """The vendor's pages over one set of records (``built_records``): who sees what, what the
    vendor sees, the forms."""

    @pytest.mark.parametrize(
        "who", ["vendor_admin", "officer", "viewer", "other_officer", "doc_approver", "auditor"]
    )
    def test_role_matrix(self, client, world, records, who):
        client.force_login(world[who])
        for name, (url, kind) in pages(world, records).items():
            status = client.get(url).status_code
            if who in ("vendor_admin", "officer"):
                expected = 200
            elif who == "viewer":
                expected = 200 if kind == "read" else 404
            elif who == "other_officer":
                # another vendor's records answer 404; its own lists are simply empty
                expected = (
                    200 if url in ("/vendor/grants/", "/vendor/incidents/", "/vendor/designation/") else 404
                )
            else:
                expected = 404  # agency officials and auditors have no vendor pages
            if name in ("renew", "review"):
                # suspended: no Renew or Submit-for-review button, so no page (can_renew_grant,
                # can_submit_for_prerelease_review)
                expected = 404
            assert status == expected, (name, status)

    def test_anonymous_is_sent_to_sign_in(self, client, world, records):
        for url, _ in pages(world, records).values():
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")

    def test_another_vendor_sees_none_of_it(self, client, world, records):
        client.force_login(world["other_officer"])
        assert records["grant"].partner_customer.legal_name not in text(client.get("/vendor/grants/"))
        assert records["incident"].reference not in text(client.get("/vendor/incidents/"))
        assert "is designated a supply-chain risk" not in text(client.get("/vendor/designation/"))

    # -----------------------------------------------------------------------------------------
    # What the vendor sees

    def test_the_model_page_shows_the_suspension_each_grant_and_the_incidents(self, client, world, records):
        client.force_login(world["viewer"])
        page = text(client.get(f"/vendor/models/{world.frontier_model.pk}/"))
        assert "Pulled offline on" in page
        assert BASIS["legal_basis"] in page
        assert records["grant"].partner_customer.legal_name in page
        assert "1 suspended" in page
        assert records["incident"].reference in page
        assert "Report an incident" not in page  # viewers read only
        client.force_login(world["officer"])
        assert "Report an incident" in text(client.get(f"/vendor/models/{world.frontier_model.pk}/"))
        action_page = text(client.get(f"/vendor/enforcement/{records['action'].pk}/"))
        assert records["grant"].access_request.tracking_number in action_page
        assert "Suspended" in action_page

    def test_the_dashboard_shows_the_designation_with_a_form_and_the_notices(self, client, world, records):
        client.force_login(world["officer"])
        page = text(client.get("/vendor/"))
        assert "Designated a supply-chain risk — answer by" in page
        assert 'action="/vendor/designation/"' in page
        assert f"{world.frontier_model} is pulled offline" in page
        assert f"{records['incident'].reference}</a>: Model weights leaked" in page
        client.force_login(world["viewer"])
        page = text(client.get("/vendor/"))
        assert "Designated a supply-chain risk — answer by" in page
        assert 'action="/vendor/designation/"' not in page

    def test_the_vendor_answers_the_designation(self, client, world, records):
        client.force_login(world["officer"])
        response = client.post("/vendor/designation/", {"response": ""})
        assert "This field is required" in text(response)
        response = client.post("/vendor/designation/", {"response": "The subcontractor was replaced in May."})
        assert response.status_code == 302
        assert refresh(records["designation"]).vendor_response == "The subcontractor was replaced in May."
        page = text(client.get("/vendor/designation/"))
        assert "The subcontractor was replaced in May." in page
        assert "<textarea" not in page
        # a second tab's answer changes nothing and says when the answer was recorded, as a warning
        again = client.post("/vendor/designation/", {"response": "Again"}, follow=True)
        assert again.status_code == 200
        assert re.search(
            r"usa-alert--warning.*Nothing was sent: the answer to designation #\d+ was already recorded on",
            text(again),
        )
        assert refresh(records["designation"]).vendor_response == "The subcontractor was replaced in May."
        client.force_login(world["viewer"])
        assert client.post("/vendor/designation/", {"response": "x"}).status_code == 404

    def test_report_and_complete_an_incident(self, client, world, records):
        client.force_login(world["officer"])
        url = f"/vendor/models/{world.frontier_model.pk}/incidents/new/"
        page = text(client.get(url))
        assert "complete report due within 2 days" in page
        assert records["grant"].partner_customer.legal_name in page  # affected customers to choose from
        response = client.post(url, {"category": "misuse_other", "severity": "serious", "description": ""})
        page = text(response)
        assert response.status_code == 200
        assert "Nothing was saved" in page
        response = client.post(
            url,
            {
                "category": "misuse_other",
                "severity": "serious",
                "detected_on": (timezone.localdate() - timedelta(days=1)).isoformat(),
                "description": "Phishing kits generated.",
                "affected_customers": [records["grant"].partner_customer.pk],
            },
        )
        incident = IncidentReport.objects.get(description="Phishing kits generated.")
        assert response["Location"] == f"/vendor/incidents/{incident.pk}/"
        assert list(incident.affected_customers.all()) == [records["grant"].partner_customer]
        assert incident.due_on == timezone.localdate() + timedelta(days=14)
        response = client.post(
            f"/vendor/incidents/{incident.pk}/complete/", {"root_cause": "Key", "remediation": "Rotated"}
        )
        assert response.status_code == 302
        assert refresh(incident).is_complete
        page = text(client.get(f"/vendor/incidents/{incident.pk}/"))
        assert f'href="/vendor/incidents/{incident.pk}/complete/"' not in page
        assert "Key" in page

    def test_renew_a_grant_from_the_grants_page(self, client, world, records):
        services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
        client.force_login(world["officer"])
        page = text(client.get("/vendor/grants/"))
        assert f'href="/vendor/grants/{records["grant"].pk}/renew/"' in page
        assert client.get(f"/vendor/grants/{records['grant'].pk}/renew/").status_code == 200
        client.force_login(world["viewer"])
        assert f'href="/vendor/grants/{records["grant"].pk}/renew/"' not in text(
            client.get("/vendor/grants/")
        )
        assert client.get(f"/vendor/grants/{records['grant'].pk}/renew/").status_code == 404
        client.force_login(world["officer"])
        response = client.post(f"/vendor/grants/{records['grant'].pk}/renew/")
        renewal = AccessRequest.objects.get(renewal_of=records["grant"])
        assert response["Location"] == f"/vendor/requests/{renewal.pk}/"
        page = text(client.post(f"/vendor/grants/{records['grant'].pk}/renew/"))
        assert "already under way" in page
        assert AccessRequest.objects.filter(renewal_of=records["grant"]).count() == 1
        # with its renewal under way, the grant offers no second one
        assert f'href="/vendor/grants/{records["grant"].pk}/renew/"' not in text(
            client.get("/vendor/grants/")
        )

    def test_a_suspended_grant_offers_no_renewal(self, client, world, records):
        client.force_login(world["officer"])
        assert "/renew/" not in text(client.get("/vendor/grants/?status=suspended"))
        page = text(client.post(f"/vendor/grants/{records['grant'].pk}/renew/"))
        assert "once the suspension is lifted" in page


def test_submit_a_model_for_pre_release_review(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor, training_compute_flop=2e26)
    EvidenceDocumentFactory(vendor=world.vendor, frontier_model=frontier_model, title="Red-team report")
    client.force_login(world["officer"])
    assert "Submit for pre-release review" in text(client.get(f"/vendor/models/{frontier_model.pk}/"))
    page = text(client.get(f"/vendor/models/{frontier_model.pk}/review/"))
    assert "Red-team report" in page
    response = client.post(f"/vendor/models/{frontier_model.pk}/review/", {"summary": ""})
    assert "This field is required" in text(response)
    response = client.post(f"/vendor/models/{frontier_model.pk}/review/", {"summary": "Evaluated."})
    assert response.status_code == 302
    assert refresh(frontier_model).release_phase == Phase.IN_REVIEW
    page = text(client.get(f"/vendor/models/{frontier_model.pk}/"))
    assert "The agencies are reviewing the evidence." in page
    assert "Submit for pre-release review" not in page
    assert PrereleaseReview.objects.filter(frontier_model=frontier_model).count() == 1


def test_a_refused_submission_is_shown_on_the_form(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor, training_compute_flop=2e26)  # no evidence
    client.force_login(world["officer"])
    page = text(client.post(f"/vendor/models/{frontier_model.pk}/review/", {"summary": "S"}))
    assert "Attach the model&#x27;s evidence first" in page
    assert refresh(frontier_model).release_phase == Phase.REGISTERED


# ---------------------------------------------------------------------------------------------
# Query counts at two sizes


@pytest.mark.parametrize("size", [5, 50])
def test_vendor_pages_cost_the_same_for_5_and_50_rows(client, world, django_assert_max_num_queries, size):
    bulk_grants(world, size, share=True)
    submitted(world)
    action = suspend(world)
    bulk_copies(report(world), size - 1)
    services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    client.force_login(world["officer"])
    for url, bound in [
        ("/vendor/grants/", 12),
        ("/vendor/grants/?status=suspended", 12),
        ("/vendor/incidents/", 11),
        (f"/vendor/models/{world.frontier_model.pk}/", 21),
        (f"/vendor/enforcement/{action.pk}/", 14),
        ("/vendor/designation/", 11),  # + who may answer (policies.can_respond_to_designation)
        ("/vendor/", 26),
    ]:
        client.get(url)
        with django_assert_max_num_queries(bound, info=url):
            assert client.get(url).status_code == 200, url
