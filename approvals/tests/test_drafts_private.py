"""Issue 13: a draft request and its documents are the vendor's team's own until submitted — not
read by auditors, portal administrators or agencies anywhere: the admin's lists, case, history and
document pages, the permission helper, the audit export and the dashboards."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import selectors, services
from approvals.models import AccessRequest, RequestDocument
from approvals.tests.factories import draft, refresh
from portal import permissions
from portal.audit.export import audit_rows

pytestmark = pytest.mark.django_db

OVERSEERS = ["auditor", "portal_admin", "doc_approver", "doc_reviewer", "oncd_approver"]


def admin_pages(access_request):
    base = f"/admin/approvals/accessrequest/{access_request.pk}"
    document = access_request.documents.get()
    return [f"{base}/change/", f"{base}/history/", f"{base}/documents/{document.pk}/"]


def export_ids(user, model_label):
    today = timezone.localdate()
    rows = audit_rows(user, start=today - timedelta(days=1), end=today + timedelta(days=1))
    return {row.object_id for row in rows if row.model.lower().endswith(model_label)}


@pytest.mark.parametrize("who", OVERSEERS)
def test_nobody_outside_the_team_opens_a_draft_in_the_admin(client, world, who):
    access_request = draft(world)
    client.force_login(world[who])
    for url in admin_pages(access_request):
        assert client.get(url).status_code == 404, url
    changelist = client.get("/admin/approvals/accessrequest/")
    assert changelist.status_code == 200
    assert access_request.use_case not in changelist.content.decode()


@pytest.mark.parametrize("who", ["auditor", "portal_admin"])
def test_those_who_read_everything_read_no_draft_and_no_draft_document(world, who):
    access_request = draft(world)
    user = world[who]
    assert not permissions.visible_to(user, AccessRequest.objects.filter(pk=access_request.pk)).exists()
    assert not permissions.has_object_permission(user, access_request)
    document = access_request.documents.get()
    assert not permissions.visible_to(user, RequestDocument.objects.filter(pk=document.pk)).exists()
    assert not permissions.has_object_permission(user, document)
    assert AccessRequest.Status.DRAFT not in selectors.status_counts(user)
    # nor its history in the audit export
    assert str(access_request.pk) not in export_ids(user, "accessrequest")
    assert str(document.pk) not in export_ids(user, "requestdocument")


def test_once_submitted_the_request_and_its_history_are_read_as_before(client, world):
    access_request = draft(world)
    services.submit_request(access_request=access_request, actor=world["officer"])
    access_request = refresh(access_request)
    auditor = world["auditor"]
    assert permissions.has_object_permission(auditor, access_request)
    assert str(access_request.pk) in export_ids(auditor, "accessrequest")
    client.force_login(auditor)
    for url in admin_pages(access_request):
        assert client.get(url).status_code == 200, url


def test_the_vendor_s_team_reads_its_draft(client, world):
    access_request = draft(world)
    for who in ("officer", "vendor_admin", "viewer"):
        client.force_login(world[who])
        page = client.get(f"/vendor/requests/{access_request.pk}/")
        assert page.status_code == 200, who
        assert "Nobody outside your team can see it until you submit it" in page.content.decode()
    client.force_login(world["other_officer"])
    assert client.get(f"/vendor/requests/{access_request.pk}/").status_code == 404
