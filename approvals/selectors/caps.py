"""A model's preview cap as people read it: "cap: 3 of 3 used", and which grants hold it.

The same count the decision service enforces (``decisions._require_within_preview_cap``): the
partner customers holding an active, unexpired grant for the model."""

from dataclasses import dataclass, field

from django.utils import timezone

from approvals.models import Grant


@dataclass
class PreviewCap:
    frontier_model: object
    cap: int
    holders: list = field(default_factory=list)  # the grants that hold the cap, one per customer

    @property
    def used(self):
        return len(self.holders)

    @property
    def full(self):
        return self.used >= self.cap

    def holds(self, partner_customer_id):
        """Whether the customer already holds a place (a renewal does not take another)."""
        return any(g.partner_customer_id == partner_customer_id for g in self.holders)

    def blocks(self, partner_customer_id):
        """Whether approving a request for this customer would go over the cap."""
        return self.full and not self.holds(partner_customer_id)

    def __str__(self):
        return f"cap: {self.used} of {self.cap} used"


def _holders(grants):
    seen, holders = set(), []
    for grant in grants:
        if grant.partner_customer_id not in seen:
            seen.add(grant.partner_customer_id)
            holders.append(grant)
    return holders


def preview_caps(frontier_models, *, today=None):
    """``{model pk: PreviewCap}`` for the capped models among ``frontier_models``, in one query."""
    today = today or timezone.localdate()
    capped = {m.pk: m for m in frontier_models if m.preview_customer_cap}
    if not capped:
        return {}
    grants = (
        Grant.objects.filter(frontier_model_id__in=capped, status=Grant.Status.ACTIVE, valid_to__gte=today)
        .select_related("partner_customer", "access_request")
        .order_by("frontier_model_id", "valid_from", "pk")
    )
    by_model = {pk: [] for pk in capped}
    for grant in grants:
        by_model[grant.frontier_model_id].append(grant)
    return {
        pk: PreviewCap(frontier_model=model, cap=model.preview_customer_cap, holders=_holders(by_model[pk]))
        for pk, model in capped.items()
    }


def preview_cap(frontier_model, *, today=None):
    """The model's ``PreviewCap``, or ``None`` when it has no cap."""
    return preview_caps([frontier_model], today=today).get(frontier_model.pk)
