"""Material facts: what the agencies review about a partner customer, a frontier model or a vendor.

While a request concerning a record is under review, or a grant for it is active, a change to
one of its material facts is an *amendment* (a new version with the vendor's reason, shown to the
agencies, re-routing the open requests). What holds a record is known to ``approvals`` only (the
registry never imports it), so the registry speaks through two signals, sent in the transaction
of the change:

- ``holders_requested(record)``: receivers return what holds the record, as short phrases
  (``["FAR-2026-000123 (in review)", ...]``); the edit page shows them.
- ``material_facts_changed(record, actor, reason, changes, expected_version)``: sent after a save
  that changed a material fact; a receiver that finds the record held records the amendment, or
  raises ``PortalError`` (for example when no reason was given), which undoes the whole change.
"""

from django.dispatch import Signal

from vendors.models import FrontierModel, PartnerCustomer, Vendor

MATERIAL_FACTS = {
    PartnerCustomer: (
        "legal_name",
        "country",
        "sector",
        "intended_use",
        "ownership",
        "security_contact_name",
        "security_contact_email",
    ),
    FrontierModel: (
        "training_compute_flop",
        "capability_summary",
        "cyber_evaluation_summary",
        "intended_release",
    ),
    # changed only when a portal administrator approves a change of legal name (vendors.onboarding)
    Vendor: ("legal_name",),
}

holders_requested = Signal()
material_facts_changed = Signal()


def material_fields(record_or_model):
    """The material facts of a customer or a model (by instance or class)."""
    model = record_or_model if isinstance(record_or_model, type) else type(record_or_model)
    return MATERIAL_FACTS.get(model, ())


def label_of(model, field):
    """The field's name for people: ``Sector``, ``Training compute (FLOP)``."""
    name = str(model._meta.get_field(field).verbose_name)
    return name[:1].upper() + name[1:]


def display_value(model, field, value):
    """A material fact as people read it: the label of a choice, compute as ``3.2 × 10^26``."""
    from vendors.models import format_flop

    if value in (None, ""):
        return ""
    if field == "training_compute_flop":
        try:
            return format_flop(float(value))
        except (TypeError, ValueError):
            return str(value)
    choices = dict(model._meta.get_field(field).flatchoices)
    return str(choices.get(value, value))


def material_changes(record, before):
    """``[(field, old, new)]`` of the material facts that differ between ``before`` (a dict of
    the values read before the change) and ``record`` now."""
    return [
        (field, before[field], getattr(record, field))
        for field in material_fields(record)
        if field in before and before[field] != getattr(record, field)
    ]


def holders(record, *, lock=False):
    """What holds ``record`` still (requests under review, active grants), as short phrases.

    With ``lock`` the receivers lock what holds it, before the caller locks the record (the order
    every service keeps: requests first, then the customer or the model)."""
    found = []
    for _receiver, response in holders_requested.send(sender=type(record), record=record, lock=lock):
        found.extend(response or [])
    return found


def announce(record, *, actor, reason, before):
    """Tell the receivers that ``record``'s material facts changed (no-op when none did)."""
    changes = material_changes(record, before)
    if changes:
        material_facts_changed.send(
            sender=type(record), record=record, actor=actor, reason=reason, changes=changes
        )
    return changes
