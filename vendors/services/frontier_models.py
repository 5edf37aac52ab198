"""Frontier models: registration, edits (amendment rules once reviewed), withdrawal."""

import math

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from portal.audit.versions import require_current
from portal.errors import PortalError
from vendors import amendments
from vendors.models import (
    FrontierModel,
    Vendor,
    parse_flop,
)
from vendors.services._common import (
    MODEL_FIELDS,
    MODEL_REVIEWED_FIELDS,
    _reason,
    _require_change,
    _require_editor,
    _save,
    share_with_vendor,
)


def _compute(value):
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise PortalError(
                "Training compute must be a finite number of FLOP.", field="training_compute_flop"
            )
        if value < 0:
            raise PortalError("Training compute cannot be negative.", field="training_compute_flop")
        if value == 0:
            raise PortalError("Training compute must be more than zero.", field="training_compute_flop")
        return float(value)
    try:
        return parse_flop(value)
    except ValueError as exc:
        raise PortalError(str(exc), field="training_compute_flop") from None


def _model_duplicate(vendor, name, version, exclude_pk=None):
    existing = FrontierModel.objects.filter(vendor=vendor, name__iexact=name, version__iexact=version)
    if exclude_pk:
        existing = existing.exclude(pk=exclude_pk)
    existing = existing.first()
    if existing is not None:
        raise PortalError(
            format_html(
                '{} {} is already registered: <a class="usa-link" href="{}">open it</a>.',
                existing.name,
                existing.version,
                reverse("vendors:model_detail", args=[existing.pk]),
            ),
            field="version",
        )


@transaction.atomic
def register_frontier_model(
    *,
    vendor,
    name,
    version,
    training_compute_flop,
    description="",
    capability_summary="",
    cyber_evaluation_summary="",
    intended_release="",
    actor,
    reason="",
):
    """Register a model of ``vendor`` in the ``registered`` phase."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_editor(actor, vendor)
    name = " ".join((name or "").split())
    version = " ".join((version or "").split())
    if not name:
        raise PortalError("Enter the model's name.", field="name")
    if not version:
        raise PortalError("Enter the model's version, for example 2.0.", field="version")
    _model_duplicate(vendor, name, version)
    frontier_model = FrontierModel(
        vendor=vendor,
        name=name,
        version=version,
        description=description or "",
        training_compute_flop=_compute(training_compute_flop),
        capability_summary=capability_summary or "",
        cyber_evaluation_summary=cyber_evaluation_summary or "",
        intended_release=intended_release or "",
        created_by=actor,
    )
    try:
        with transaction.atomic():
            _save(frontier_model, actor=actor, reason=_reason(reason, "Registered by the vendor"))
    except IntegrityError:
        raise PortalError(f"{name} {version} is already registered.", field="version") from None
    share_with_vendor(frontier_model, vendor)
    return frontier_model


@transaction.atomic
def update_frontier_model(*, frontier_model, actor, reason="", expected_version=None, **changes):
    """Edit a model's description and evaluation; name, version and compute only while registered.

    A change to a material fact while the model is held by a request or a grant is an amendment
    (``vendors.amendments``)."""
    Vendor.objects.select_for_update(no_key=True).filter(pk=frontier_model.vendor_id).first()
    amendments.holders(frontier_model, lock=True)
    frontier_model = (
        FrontierModel.objects.select_for_update().select_related("vendor").get(pk=frontier_model.pk)
    )
    vendor = frontier_model.vendor
    _require_change(actor, frontier_model, vendor)
    require_current(frontier_model, expected_version)
    unknown = set(changes) - set(MODEL_FIELDS)
    if unknown:
        raise PortalError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    Phase = FrontierModel.ReleasePhase
    if frontier_model.release_phase in {Phase.WITHDRAWN, Phase.SUSPENDED}:
        raise PortalError(
            f"{frontier_model} is {frontier_model.get_release_phase_display().lower()}; it can no longer be "
            "changed."
        )
    if "training_compute_flop" in changes:
        changes["training_compute_flop"] = _compute(changes["training_compute_flop"])
    for key in ("name", "version"):
        if key in changes:
            changes[key] = " ".join((changes[key] or "").split())
            if not changes[key]:
                raise PortalError(f"Enter the model's {key}.", field=key)
    changed = [f for f, v in changes.items() if getattr(frontier_model, f) != v]
    if not changed:
        raise PortalError("Nothing was changed.")
    if frontier_model.release_phase != Phase.REGISTERED:
        frozen = [f for f in changed if f in MODEL_REVIEWED_FIELDS]
        if frozen:
            label = FrontierModel._meta.get_field(frozen[0]).verbose_name
            raise PortalError(
                f"The {label} cannot change once the model has gone to review: the agencies review "
                "what was registered. Register the new version as a new model instead.",
                field=frozen[0],
            )
    if {"name", "version"} & set(changed):
        _model_duplicate(
            vendor,
            changes.get("name", frontier_model.name),
            changes.get("version", frontier_model.version),
            exclude_pk=frontier_model.pk,
        )
    before = {f: getattr(frontier_model, f) for f in MODEL_FIELDS}
    for field in changed:
        setattr(frontier_model, field, changes[field])
    frontier_model.updated_at = timezone.now()
    _save(
        frontier_model,
        actor=actor,
        reason=_reason(reason, "Edited by the vendor"),
        update_fields=[*changed, "updated_at"],
    )
    amendments.announce(frontier_model, actor=actor, reason=reason, before=before)
    return frontier_model


@transaction.atomic
def withdraw_frontier_model(*, frontier_model, actor, reason):
    """The vendor takes a model back; the only release-phase change a vendor may make."""
    frontier_model = (
        FrontierModel.objects.select_for_update().select_related("vendor").get(pk=frontier_model.pk)
    )
    _require_change(actor, frontier_model, frontier_model.vendor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise PortalError("Say why the model is withdrawn; the agencies will read it.", field="reason")
    Phase = FrontierModel.ReleasePhase
    if frontier_model.release_phase == Phase.WITHDRAWN:
        raise PortalError(f"{frontier_model} is already withdrawn.")
    if frontier_model.release_phase == Phase.SUSPENDED:
        raise PortalError(
            f"{frontier_model} is suspended by an enforcement action and stays so until the agency lifts it."
        )
    frontier_model.release_phase = Phase.WITHDRAWN
    frontier_model.updated_at = timezone.now()
    return _save(
        frontier_model,
        actor=actor,
        reason=f"Withdrawn by the vendor: {reason}",
        update_fields=["release_phase", "updated_at"],
    )
