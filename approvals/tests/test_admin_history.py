"""History pages, the audit export and the guarded parts of the admin (users, permissions,
auditors who change nothing)."""

import csv
import io
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from guardian.admin import GuardedModelAdminMixin

from approvals import services
from approvals.models import AccessRequest
from approvals.tests.factories import new_customer, referral, refresh, sign, submitted
from portal.accounts.models import User
from portal.admin_site import admin_site

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def export(client, fmt="json", **params):
    today = timezone.localdate()
    query = {
        "start": (today - timedelta(days=1)).isoformat(),
        "end": today.isoformat(),
        "format": fmt,
        **params,
    }
    return client.get("/admin/audit-export/", query)


def a_case_with_internal_work(world):
    """A CISA-referred case with ONCD's draft and note, DOC's note and OSTP's signed position."""
    access_request = submitted(world, partner_customer=new_customer(world, sector="energy"))
    services.draft_position(
        referral=referral(access_request, "ONCD"),
        actor=world["oncd_approver"],
        stance="non_concur",
        rationale="ONCD-DRAFT-RATIONALE",
    )
    services.add_internal_note(access_request=access_request, actor=world["oncd_approver"], body="ONCD-NOTE")
    services.add_internal_note(access_request=access_request, actor=world["doc_reviewer"], body="DOC-NOTE")
    sign(world, access_request, "OSTP", "concur_with_conditions", conditions=[{"text": "OSTP-CONDITION"}])
    return access_request


# ---------------------------------------------------------------------------------------------
# History pages


def test_history_page_shows_field_diffs_and_reasons(client, world):
    access_request = submitted(world)
    services.assign_officials(
        referral=referral(access_request, "DOC"),
        actor=world["doc_reviewer"],
        officials=[world["doc_reviewer"]],
    )
    client.force_login(world["doc_approver"])
    page = text(client.get(f"/admin/approvals/accessrequest/{access_request.pk}/history/"))
    assert "Review started by DOC." in page
    # labels, not the stored codes
    assert re.search(r"<strong>Status:</strong> Submitted &nbsp;&rarr;&nbsp;&nbsp;In review", page)
    assert world["doc_reviewer"].email in page or str(world["doc_reviewer"]) in page
    page = text(client.get(f"/admin/approvals/referral/{referral(access_request, 'DOC').pk}/history/"))
    assert "Assigned to" in page


@pytest.mark.parametrize(
    ("who", "expected"),
    [("doc_approver", 200), ("cisa_approver", 404), ("auditor", 200), ("portal_admin", 200)],
)
def test_history_pages_answer_404_outside_scope(client, world, who, expected):
    access_request = submitted(world)
    client.force_login(world[who])
    assert client.get(f"/admin/approvals/accessrequest/{access_request.pk}/history/").status_code == expected
    record = access_request.history.first()
    url = f"/admin/approvals/accessrequest/{access_request.pk}/history/{record.history_id}/"
    assert client.get(url).status_code == expected


def test_a_historical_version_is_never_saved_back(client, world):
    access_request = submitted(world)
    first = access_request.history.order_by("history_id").first()
    url = f"/admin/approvals/accessrequest/{access_request.pk}/history/{first.history_id}/"
    for who in ("auditor", "portal_admin", "doc_approver"):
        client.force_login(world[who])
        response = client.post(url, {"status": "draft", "use_case": "changed", "_change_history": "1"})
        assert response.status_code == 405, who
    assert refresh(access_request).status == AccessRequest.Status.SUBMITTED
    client.force_login(world["auditor"])
    assert client.get(url.replace(f"/{first.history_id}/", "/abc/")).status_code == 404


def test_the_case_page_links_to_every_version(client, world):
    access_request = submitted(world)
    client.force_login(world["doc_reviewer"])
    page = text(client.get(f"/admin/approvals/accessrequest/{access_request.pk}/change/"))
    assert f"/admin/approvals/accessrequest/{access_request.pk}/history/" in page
    assert f"/admin/approvals/referral/{referral(access_request, 'DOC').pk}/history/" in page


# ---------------------------------------------------------------------------------------------
# Audit export


def test_auditors_export_every_change_as_the_history_holds_it(client, world):
    access_request = a_case_with_internal_work(world)
    client.force_login(world["auditor"])
    data = json.loads(export(client).content)
    changes = data["changes"]
    assert data["count"] == len(changes)
    # every history row of the request is there, once, with user and reason
    mine = [
        c
        for c in changes
        if c["model"] == "approvals.accessrequest" and c["object_id"] == str(access_request.pk)
    ]
    expected = list(access_request.history.order_by("history_date", "history_id"))
    assert [c["history_id"] for c in mine] == [r.history_id for r in expected]
    assert [c["reason"] for c in mine] == [r.history_change_reason or "" for r in expected]
    submitted_row = next(c for c in mine if c["reason"].startswith("Submitted by"))
    assert {"field": "status", "old": "draft", "new": "submitted"} in submitted_row["changes"]
    assert submitted_row["user"] == world["officer"].email
    flat = json.dumps(changes)
    for fragment in ("ONCD-DRAFT-RATIONALE", "ONCD-NOTE", "DOC-NOTE", "OSTP-CONDITION"):
        assert fragment in flat


def test_an_agency_exports_only_what_it_may_see(client, world):
    access_request = a_case_with_internal_work(world)
    other = submitted(world)  # not referred to CISA
    client.force_login(world["cisa_approver"])
    flat = export(client).content.decode()
    changes = json.loads(flat)["changes"]
    # the case referred to CISA is there, with the other agencies' signed work
    assert any(
        c["model"] == "approvals.accessrequest" and c["object_id"] == str(access_request.pk) for c in changes
    )
    assert "OSTP-CONDITION" in flat
    # never another agency's draft or note, never a case not referred to CISA
    assert "ONCD-DRAFT-RATIONALE" not in flat
    assert "ONCD-NOTE" not in flat
    assert "DOC-NOTE" not in flat
    assert not any(
        c["model"] == "approvals.accessrequest" and c["object_id"] == str(other.pk) for c in changes
    )
    referral_ids = {c["object_id"] for c in changes if c["model"] == "approvals.referral"}
    assert referral_ids == {str(referral(access_request, "CISA").pk)}
    # nor anybody outside CISA's organisation
    users = {c["object_id"] for c in changes if c["model"] == "accounts.user"}
    assert str(world["officer"].pk) not in users
    # DOC reads its own note
    client.force_login(world["doc_reviewer"])
    flat = export(client).content.decode()
    assert "DOC-NOTE" in flat
    assert "ONCD-NOTE" not in flat


def test_another_vendors_records_stay_out_of_an_agencys_export(client, world):
    from vendors.tests.factories import PartnerCustomerFactory

    hidden = PartnerCustomerFactory(vendor=world.other_vendor, legal_name="Hidden Customer Ltd")
    submitted(world)
    client.force_login(world["oncd_approver"])
    flat = export(client).content.decode()
    assert "Hidden Customer" not in flat
    assert not any(
        c["model"] == "vendors.partnercustomer" and c["object_id"] == str(hidden.pk)
        for c in json.loads(flat)["changes"]
    )
    client.force_login(world["auditor"])
    assert "Hidden Customer" in export(client).content.decode()


def test_csv_export(client, world):
    submitted(world, use_case='=HYPERLINK("http://x")')
    client.force_login(world["auditor"])
    response = export(client, "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert table
    assert {"at", "model", "object_id", "action", "user", "reason", "changes"} <= set(table[0])
    assert any("status: draft → submitted" in row["changes"] for row in table)
    assert not any(cell.startswith("=") for row in table for cell in row.values())


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-13-45"}, "Enter a valid date."),
        ({"start": "yesterday"}, "Enter a valid date."),
        ({"start": "2026-05-10", "end": "2026-05-01"}, "The last day comes before the first"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "at most 366 days"),
        ({"end": ""}, "This field is required."),
    ],
)
def test_bad_ranges_are_explained(client, world, params, message):
    client.force_login(world["auditor"])
    response = export(client, **params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert message in text(response)


def test_a_range_outside_the_changes_exports_nothing(client, world):
    submitted(world)
    client.force_login(world["auditor"])
    data = json.loads(export(client, start="2020-01-01", end="2020-12-31").content)
    assert data["count"] == 0


@pytest.mark.parametrize(
    ("who", "expected"), [("officer", 404), ("vendor_admin", 404), ("doc_reviewer", 200)]
)
def test_who_may_export(client, world, who, expected):
    client.force_login(world[who])
    assert client.get("/admin/audit-export/", follow=True).status_code == expected


def test_anonymous_export_goes_to_sign_in(client, world):
    response = client.get("/admin/audit-export/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


# ---------------------------------------------------------------------------------------------
# Guarded admin: no generic object-permission editing, users without rights fields


def test_no_admin_edits_object_permissions_generically():
    for model, model_admin in admin_site._registry.items():
        assert not isinstance(model_admin, GuardedModelAdminMixin), model
    assert "guardian" not in {m._meta.app_label for m in admin_site._registry}
    assert "auth" not in {m._meta.app_label for m in admin_site._registry}  # groups and permissions


def test_portal_admins_cannot_grant_rights_through_the_user_form(client, world):
    person = world["doc_reviewer"]
    client.force_login(world["portal_admin"])
    page = text(client.get(f"/admin/accounts/user/{person.pk}/change/"))
    for field in ("is_superuser", "user_permissions", "groups"):
        assert f'name="{field}"' not in page
    client.post(
        f"/admin/accounts/user/{person.pk}/change/",
        {
            "email": person.email,
            "full_name": person.full_name,
            "organisation": person.organisation_id,
            "role": person.role,
            "is_active": "on",
            "is_superuser": "on",
            "groups": [1],
        },
    )
    person = User.objects.get(pk=person.pk)
    assert not person.is_superuser
    assert not person.user_permissions.exists()


def test_officials_only_read_accounts(client, world):
    person = world["doc_reviewer2"]
    client.force_login(world["doc_approver"])
    page = text(client.get(f"/admin/accounts/user/{person.pk}/change/"))
    assert 'name="full_name"' not in page
    assert client.get(f"/admin/accounts/user/{world['officer'].pk}/change/").status_code in (302, 404)


def test_auditor_reads_the_whole_case_and_finds_nothing_to_press(client, world):
    access_request = a_case_with_internal_work(world)
    client.force_login(world["auditor"])
    pages = [
        f"/admin/approvals/accessrequest/{access_request.pk}/change/",
        f"/admin/approvals/accessrequest/{access_request.pk}/history/",
        f"/admin/approvals/referral/{referral(access_request, 'ONCD').pk}/history/",
        f"/admin/vendors/frontiermodel/{access_request.frontier_model_id}/change/",
        f"/admin/vendors/partnercustomer/{access_request.partner_customer_id}/change/",
        f"/admin/vendors/vendor/{access_request.vendor_id}/change/",
        f"/admin/accounts/user/{world['officer'].pk}/change/",
        f"/admin/approvals/agency/{world.agency('DOC').pk}/change/",
        "/admin/audit-export/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        page = text(response)
        for forbidden in (
            'name="_save"',
            'name="_continue"',
            "deletelink",
            "addlink",
            'class="button"',
            'name="action"',
        ):
            assert forbidden not in page, (url, forbidden)
    case = text(client.get(pages[0]))
    for fragment in ("ONCD-DRAFT-RATIONALE", "ONCD-NOTE", "DOC-NOTE", "OSTP-CONDITION"):
        assert fragment in case


def test_history_versions_of_referrals_and_questions_open_for_auditors(client, world):
    # the requests' drop-down on these pages was ordered by the case list's annotation: a 500
    access_request = submitted(world)
    services.issue_information_request(
        access_request=refresh(access_request), actor=world["doc_reviewer"], question="Why?"
    )
    client.force_login(world["auditor"])
    for obj in (referral(access_request, "DOC"), access_request.information_requests.get()):
        opts = obj._meta
        version = obj.history.order_by("-history_id").first()
        url = f"/admin/{opts.app_label}/{opts.model_name}/{obj.pk}/history/{version.history_id}/"
        assert client.get(url).status_code == 200, url


def test_the_case_page_names_who_drafted_redrafted_and_signed_a_position(client, world):
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    services.assign_officials(
        referral=doc, actor=world["doc_approver"], officials=[world["doc_reviewer"], world["doc_reviewer2"]]
    )
    services.draft_position(referral=refresh(doc), actor=world["doc_reviewer"], stance="concur")
    services.draft_position(
        referral=refresh(doc), actor=world["doc_reviewer2"], stance="concur", rationale="Checked."
    )
    services.sign_position(referral=refresh(doc), actor=world["doc_approver"])
    client.force_login(world["auditor"])
    page = text(client.get(f"/admin/approvals/accessrequest/{access_request.pk}/change/"))
    expected = (
        f"Drafted by {world['doc_reviewer'].full_name}, redrafted by {world['doc_reviewer2'].full_name}, "
        f"signed by {world['doc_approver'].full_name}"
    )
    assert expected + "." in page
    # and the referral's own history page says the same above its rows
    history = text(client.get(f"/admin/approvals/referral/{doc.pk}/history/"))
    assert "The position's versions" in history
    assert expected in history
