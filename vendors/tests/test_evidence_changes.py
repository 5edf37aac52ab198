"""Evidence can be replaced or removed until the agencies receive it, with history (issue 17)."""

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.errors import PortalError
from vendors import services
from vendors.models import EvidenceDocument, FrontierModel
from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory, PartnerCustomerFactory

pytestmark = pytest.mark.django_db


def text_file(body=b"Model card v2: evaluated again.\n", name="card-v2.txt"):
    return SimpleUploadedFile(name, body, content_type="text/plain")


@pytest.fixture
def model_document(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    assert frontier_model.release_phase == FrontierModel.ReleasePhase.REGISTERED
    return EvidenceDocumentFactory(frontier_model=frontier_model, title="Model card v1")


def test_replacing_keeps_the_former_file_in_history_and_deletes_its_bytes(
    world, model_document, django_capture_on_commit_callbacks
):
    former = model_document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        document = services.replace_evidence(
            document=model_document, uploaded_file=text_file(), actor=world.officer, reason="wrong version"
        )
    document.refresh_from_db()
    assert document.original_filename == "card-v2.txt"
    assert document.title == "Model card v1"
    assert document.uploaded_by == world.officer
    assert document.file.read() == b"Model card v2: evaluated again.\n"
    assert not default_storage.exists(former)
    latest, before = document.history.order_by("-history_id")[:2]
    assert (latest.history_user, latest.history_change_reason) == (world.officer, "wrong version")
    assert before.original_filename == "card.txt"
    assert latest.sha256 != before.sha256


def test_removing_leaves_a_history_row_with_who_and_why(
    world, model_document, django_capture_on_commit_callbacks
):
    name, pk = model_document.file.name, model_document.pk
    with django_capture_on_commit_callbacks(execute=True):
        services.remove_evidence(document=model_document, actor=world.admin, reason="uploaded by mistake")
    assert not EvidenceDocument.objects.filter(pk=pk).exists()
    assert not default_storage.exists(name)
    record = EvidenceDocument.history.filter(id=pk).latest("history_id")
    assert record.history_type == "-"
    assert (record.history_user, record.history_change_reason) == (world.admin, "uploaded by mistake")
    assert record.title == "Model card v1"


def test_evidence_is_fixed_once_its_model_is_submitted_for_review(world, model_document):
    FrontierModel.objects.filter(pk=model_document.frontier_model_id).update(
        release_phase=FrontierModel.ReleasePhase.IN_REVIEW
    )
    with pytest.raises(
        PortalError, match=r"submitted for review \(in pre-release review\): its evidence stays"
    ):
        services.remove_evidence(document=model_document, actor=world.officer)
    with pytest.raises(PortalError, match="submitted for review"):
        services.replace_evidence(document=model_document, uploaded_file=text_file(), actor=world.officer)
    assert EvidenceDocument.objects.get(pk=model_document.pk).original_filename == "card.txt"


def test_evidence_is_fixed_once_its_customer_is_in_a_submitted_request(world):
    from django.utils import timezone

    customer = PartnerCustomerFactory(vendor=world.vendor, identity_frozen_at=timezone.now())
    document = EvidenceDocumentFactory(frontier_model=None, partner_customer=customer)
    with pytest.raises(PortalError, match="is in a submitted access request"):
        services.remove_evidence(document=document, actor=world.officer)


def test_evidence_given_to_an_agency_is_fixed(world, model_document):
    from approvals.tests.factories import make_agency

    services.share_with_group(model_document.frontier_model, make_agency("DOC").officials_group)
    with pytest.raises(PortalError, match="An agency has been given this document"):
        services.remove_evidence(document=model_document, actor=world.officer)


@pytest.mark.parametrize("who", ["viewer", "other_admin"])
def test_viewers_and_other_vendors_may_not(world, model_document, who):
    with pytest.raises(PortalError, match=r"Viewers|Only members of this vendor"):
        services.remove_evidence(document=model_document, actor=world.user(who))
    assert EvidenceDocument.objects.filter(pk=model_document.pk).exists()


def test_the_model_page_offers_replace_and_remove_until_review(client, world, model_document):
    fixed = EvidenceDocumentFactory(
        frontier_model=FrontierModelFactory(
            vendor=world.vendor, release_phase=FrontierModel.ReleasePhase.IN_REVIEW
        )
    )
    client.force_login(world.officer)
    page = client.get(
        reverse("vendors:model_detail", args=[model_document.frontier_model_id])
    ).content.decode()
    assert reverse("vendors:evidence_replace", args=[model_document.pk]) in page
    assert reverse("vendors:evidence_remove", args=[model_document.pk]) in page
    page = client.get(reverse("vendors:model_detail", args=[fixed.frontier_model_id])).content.decode()
    assert reverse("vendors:evidence_remove", args=[fixed.pk]) not in page
    assert "Kept as received" in page
    # a viewer sees no buttons
    client.force_login(world.viewer)
    page = client.get(
        reverse("vendors:model_detail", args=[model_document.frontier_model_id])
    ).content.decode()
    assert reverse("vendors:evidence_remove", args=[model_document.pk]) not in page


def test_replace_and_remove_pages(client, world, model_document, django_capture_on_commit_callbacks):
    client.force_login(world.officer)
    url = reverse("vendors:evidence_replace", args=[model_document.pk])
    assert "Replace the document" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"file": text_file(), "title": "Model card v2", "reason": ""})
    assert response["Location"] == reverse("vendors:model_detail", args=[model_document.frontier_model_id])
    model_document.refresh_from_db()
    assert model_document.title == "Model card v2"
    assert (
        model_document.history.latest("history_id").history_change_reason
        == "Replaced card.txt with card-v2.txt"
    )
    response = client.post(
        reverse("vendors:evidence_remove", args=[model_document.pk]), {"reason": "superseded"}
    )
    assert response.status_code == 302
    assert not EvidenceDocument.objects.filter(pk=model_document.pk).exists()


def test_a_fixed_document_s_pages_say_why_and_change_nothing(client, world, model_document):
    FrontierModel.objects.filter(pk=model_document.frontier_model_id).update(
        release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
    )
    client.force_login(world.officer)
    url = reverse("vendors:evidence_remove", args=[model_document.pk])
    page = client.post(url, {"reason": "x"}).content.decode()
    assert "its evidence stays as the agencies received it" in page
    assert "Remove the document</button>" not in page
    assert EvidenceDocument.objects.filter(pk=model_document.pk).exists()


@pytest.mark.parametrize(("who", "status"), [("viewer", 404), ("other_admin", 404), ("agency", 404)])
def test_who_may_not_open_the_pages(client, world, model_document, who, status):
    client.force_login(world.user(who))
    for name in ("vendors:evidence_replace", "vendors:evidence_remove"):
        assert client.get(reverse(name, args=[model_document.pk])).status_code == status
