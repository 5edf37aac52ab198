"""Confirmations on identities, not counts.

An enforcement confirmation page shows the records an action will take (grants, requests,
referrals) and sends their ids back with the order (``shown``: ``{kind: ids}``). The service
reads the records again under its locks and calls ``require_same_records``: if any set differs,
nothing is done and the refusal names what was added and what went away, so that the page shown
again (with the records as they are now) says what changed. Nothing submitted means no check.
"""

from approvals.models import AccessRequest, Grant, Referral
from portal.errors import PortalError

NAMED = 20  # records named per list in a refusal; the rest are counted

KINDS = {  # kind: (what the page calls them, how one is named)
    "grants": ("grants", "grant"),
    "lapsing": ("grants that expire instead", "grant"),
    "requests": ("open requests", "request"),
    "referrals": ("referrals", "referral"),
}


class RecordsChanged(PortalError):
    """The records a confirmation page showed are not those the action would take now."""

    def __init__(self, changes):
        self.changes = changes  # [(what, (added names, how many), (removed names, how many))]
        parts = []
        for what, added, removed in changes:
            said = []
            if added[1]:
                said.append(f"added {_names(*added)}")
            if removed[1]:
                said.append(f"no longer included {_names(*removed)}")
            parts.append(f"{what} — {'; '.join(said)}")
        super().__init__(
            "Nothing was done: the records this page showed changed since it was opened. "
            + " · ".join(parts)
            + ". The page now shows the records as they are: read them and confirm again."
        )


def _names(names, count):
    shown = ", ".join(names)
    return shown if count <= len(names) else f"{shown} and {count - len(names)} more"


def _label(kind, ids):
    """``{id: name}`` for the records of ``kind``: a tracking number with the customer."""
    if kind in ("grants", "lapsing"):
        rows = Grant.objects.filter(pk__in=ids).values_list(
            "pk", "access_request__tracking_number", "partner_customer__legal_name"
        )
        return {pk: f"{number} ({customer})" for pk, number, customer in rows}
    if kind == "requests":
        rows = AccessRequest.objects.filter(pk__in=ids).values_list(
            "pk", "tracking_number", "partner_customer__legal_name"
        )
        return {pk: f"{number} ({customer})" for pk, number, customer in rows}
    rows = Referral.objects.filter(pk__in=ids).values_list(
        "pk", "access_request__tracking_number", "agency__code"
    )
    return {pk: f"{number} — {code}" for pk, number, code in rows}


def require_same_records(shown, actual):
    """Refuse (``RecordsChanged``) when any set in ``shown`` differs from the same set in ``actual``.

    ``shown`` is what the page sent (``None``: no check); ``actual`` is ``{kind: ids}`` read now."""
    if shown is None:
        return
    changes = []
    for kind, ids in actual.items():
        if kind not in shown:
            continue
        now, before = set(ids), set(shown[kind])
        added, removed = sorted(now - before), sorted(before - now)
        if not added and not removed:
            continue
        names = _label(kind, [*added[:NAMED], *removed[:NAMED]])
        what = KINDS.get(kind, (kind, kind))[0]
        changes.append(
            (
                what[:1].upper() + what[1:],
                ([names.get(pk, f"#{pk}") for pk in added[:NAMED]], len(added)),
                ([names.get(pk, f"#{pk}") for pk in removed[:NAMED]], len(removed)),
            )
        )
    if changes:
        raise RecordsChanged(changes)
