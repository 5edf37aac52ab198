"""A renewal draft starts with the expiring grant's documents (references to the same stored
files, each with history), and the officer can remove what no longer applies."""

import pytest

from approvals import services
from approvals.tests.enforcement_helpers import approved
from approvals.tests.factories import refresh

pytestmark = pytest.mark.django_db


def test_the_renewal_draft_carries_the_grants_documents_with_history(world):
    grant = approved(world)
    originals = list(grant.access_request.documents.all())
    assert originals  # the factory's requests are submitted with a document
    renewal = services.request_grant_renewal(grant=grant, actor=world["officer"])
    copies = list(renewal.documents.all())
    assert [(d.title, d.sha256, d.file.name) for d in copies] == [
        (d.title, d.sha256, d.file.name) for d in originals
    ]
    assert {d.pk for d in copies}.isdisjoint({d.pk for d in originals})
    record = copies[0].history.first()
    assert record.history_user == world["officer"]
    assert f"from {grant.access_request}" in record.history_change_reason
    # the renewal is complete as far as documents go: it can be submitted as it is
    assert not any("supporting document" in d for d in services.completeness_defects(renewal))


def test_the_officer_removes_a_copied_document_and_the_original_stays(world):
    grant = approved(world)
    original = grant.access_request.documents.get()
    renewal = services.request_grant_renewal(grant=grant, actor=world["officer"])
    copy = renewal.documents.get()
    services.remove_request_document(document=copy, actor=world["officer"])
    assert not refresh(renewal).documents.exists()
    assert refresh(original).file.name == copy.file.name
    with refresh(original).file.open("rb") as stored:
        assert stored.read(4)  # the shared file is still there for the original request


def test_the_renewal_draft_page_offers_to_remove_each_carried_over_document(client, world):
    grant = approved(world)
    original = grant.access_request.documents.get()
    renewal = services.request_grant_renewal(grant=grant, actor=world["officer"])
    copy = renewal.documents.get()
    client.force_login(world["officer"])
    page = client.get(f"/vendor/requests/{renewal.pk}/").content.decode()
    remove = f"/vendor/requests/{renewal.pk}/documents/{copy.pk}/remove/"
    assert copy.title in page
    assert f'action="{remove}"' in page
    assert client.post(remove).status_code == 302
    assert not refresh(renewal).documents.exists()
    # the original request keeps its document, and it still downloads
    detail = f"/vendor/requests/{grant.access_request.tracking_number}/documents/{original.pk}/"
    assert client.get(detail).status_code == 200
