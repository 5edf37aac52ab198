"""Evidence documents attached to a vendor's records."""

from django.db import transaction

from portal.errors import PortalError
from vendors.models import (
    EvidenceDocument,
    FrontierModel,
    PartnerCustomer,
)
from vendors.services._common import _reason, _require_change, _save, share_with_vendor
from vendors.uploads import validate_document


@transaction.atomic
def attach_evidence(
    *, kind, title, uploaded_file, actor, frontier_model=None, partner_customer=None, reason=""
):
    """Attach a PDF or text document to one model or one customer."""
    if (frontier_model is None) == (partner_customer is None):
        raise PortalError("Attach the document to one model or one customer.")
    target = frontier_model or partner_customer
    target = type(target).objects.select_for_update().select_related("vendor").get(pk=target.pk)
    vendor = target.vendor
    _require_change(actor, target, vendor)
    if kind not in EvidenceDocument.Kind.values:
        raise PortalError("Choose what kind of document this is.", field="kind")
    title = " ".join((title or "").split())
    if not title:
        raise PortalError("Give the document a title, for example “Model card v2”.", field="title")
    if len(title) > 200:
        raise PortalError("The title is too long: at most 200 characters.", field="title")
    content_type, sha256, size = validate_document(uploaded_file)
    original = (getattr(uploaded_file, "name", "") or "document").rsplit("/", 1)[-1][:255]
    document = EvidenceDocument(
        vendor=vendor,
        frontier_model=target if isinstance(target, FrontierModel) else None,
        partner_customer=target if isinstance(target, PartnerCustomer) else None,
        kind=kind,
        title=title,
        original_filename=original,
        content_type=content_type,
        size_bytes=size,
        sha256=sha256,
        uploaded_by=actor,
    )
    extension = ".pdf" if content_type == "application/pdf" else ".txt"
    document.file.save(f"{sha256[:16]}{extension}", uploaded_file, save=False)
    try:
        _save(document, actor=actor, reason=_reason(reason, f"Evidence attached to {target}"))
    except Exception:
        document.file.delete(save=False)
        raise
    share_with_vendor(document, vendor)
    return document
