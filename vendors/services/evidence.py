"""Evidence documents attached to a vendor's records: attach; replace or remove before review."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.audit.history import stamp
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


# ---------------------------------------------------------------------------------------------
# Replacing and removing, before the agencies have read it


def evidence_locked_reasons(documents):
    """``{document pk: why it is fixed, or None}``: the one statement of when evidence may still be
    replaced or removed. It may while its model is only registered (not submitted for review)
    or its customer is in no submitted request, and no agency has been given it; afterwards it
    stays as the agencies received it, and a new document is attached instead.
    One query for the agencies' shares, whatever the number of documents."""
    from django.contrib.auth.models import Group

    from vendors.models import EvidenceDocumentGroupObjectPermission

    documents = list(documents)
    own_groups = Group.objects.filter(Q(vendor_members__isnull=False) | Q(vendor_editors__isnull=False))
    shared = set(
        EvidenceDocumentGroupObjectPermission.objects.filter(content_object__in=[d.pk for d in documents])
        .exclude(group__in=own_groups)
        .values_list("content_object_id", flat=True)
    )
    reasons = {}
    for document in documents:
        target = document.frontier_model or document.partner_customer
        if (
            isinstance(target, FrontierModel)
            and target.release_phase != FrontierModel.ReleasePhase.REGISTERED
        ):
            reasons[document.pk] = (
                f"{target} has been submitted for review ({target.get_release_phase_display().lower()}): "
                "its evidence stays as the agencies received it. Attach a new document instead."
            )
        elif isinstance(target, PartnerCustomer) and target.identity_frozen:
            reasons[document.pk] = (
                f"{target} is in a submitted access request: its evidence stays as the agencies received "
                "it. Attach a new document instead."
            )
        elif document.pk in shared:
            reasons[document.pk] = (
                "An agency has been given this document: it stays as they received it. "
                "Attach a new document instead."
            )
        else:
            reasons[document.pk] = None
    return reasons


def _lock_evidence(document, actor):
    """Lock the record the document is attached to (submission changes that row), then the
    document; check who acts and whether it may still change."""
    document = EvidenceDocument.objects.select_related("vendor").get(pk=document.pk)
    target_model = FrontierModel if document.frontier_model_id else PartnerCustomer
    target = target_model.objects.select_for_update().get(
        pk=document.frontier_model_id or document.partner_customer_id
    )
    document = EvidenceDocument.objects.select_for_update().select_related("vendor").get(pk=document.pk)
    if target_model is FrontierModel:
        document.frontier_model = target
    else:
        document.partner_customer = target
    _require_change(actor, document, document.vendor)
    locked = evidence_locked_reasons([document])[document.pk]
    if locked:
        raise PortalError(locked)
    return document, target


def _delete_file_after_commit(name):
    from django.core.files.storage import default_storage

    if name:
        transaction.on_commit(lambda: default_storage.delete(name))


@transaction.atomic
def replace_evidence(*, document, uploaded_file, actor, title="", reason=""):
    """Put a new file in place of a document not yet received by any agency; history keeps the
    former file's name, size and hash. The former file's bytes are deleted once this commits."""
    document, _target = _lock_evidence(document, actor)
    title = " ".join((title or "").split()) or document.title
    if len(title) > 200:
        raise PortalError("The title is too long: at most 200 characters.", field="title")
    content_type, sha256, size = validate_document(uploaded_file)
    former_name, former_filename = document.file.name, document.original_filename
    original = (getattr(uploaded_file, "name", "") or "document").rsplit("/", 1)[-1][:255]
    document.title = title
    document.original_filename = original
    document.content_type = content_type
    document.size_bytes = size
    document.sha256 = sha256
    document.uploaded_by = actor
    document.uploaded_at = timezone.now()
    extension = ".pdf" if content_type == "application/pdf" else ".txt"
    document.file.save(f"{sha256[:16]}{extension}", uploaded_file, save=False)
    try:
        _save(document, actor=actor, reason=_reason(reason, f"Replaced {former_filename} with {original}"))
    except Exception:
        document.file.delete(save=False)
        raise
    if former_name != document.file.name:
        _delete_file_after_commit(former_name)
    return document


@transaction.atomic
def remove_evidence(*, document, actor, reason=""):
    """Remove a document not yet received by any agency; its history (title, file name, hash,
    who removed it and why) stays. The file's bytes are deleted once this commits."""
    document, target = _lock_evidence(document, actor)
    name = document.file.name
    stamp(document, actor=actor, reason=_reason(reason, f"Evidence “{document.title}” removed from {target}"))
    document.delete()
    _delete_file_after_commit(name)
    return document
