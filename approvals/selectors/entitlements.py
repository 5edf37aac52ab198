"""The entitlement answer with its reasons: "is this customer cleared for this model now, and if not,
why?" — for one pair or a batch, for the API, the vendor pages and the agency pages alike.

It extends ``grants.is_customer_cleared`` (the same rule: the active grant whose validity covers the
day) with the answer for every other case: no grant, expired, not yet valid, suspended (with the
suspension's reference), revoked (with the revocation's reference), model withdrawn.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, Q
from django.utils import timezone

from approvals.models import Condition, EnforcementAction, Grant
from vendors.models import FrontierModel, PartnerCustomer

MAX_BATCH = 1000


class Reason:
    CLEARED = "cleared"
    NO_GRANT = "no_grant"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    MODEL_WITHDRAWN = "model_withdrawn"


MESSAGES = {
    Reason.CLEARED: "Cleared: an active grant covers today.",
    Reason.NO_GRANT: "Not cleared: no grant exists for this customer and model.",
    Reason.NOT_YET_VALID: "Not cleared: the grant is not valid yet.",
    Reason.EXPIRED: "Not cleared: the grant has expired.",
    Reason.SUSPENDED: "Not cleared: the grant is suspended because the model was pulled offline.",
    Reason.REVOKED: "Not cleared: the grant was revoked.",
    Reason.MODEL_WITHDRAWN: "Not cleared: the vendor withdrew the model.",
}


def action_reference(action):
    return f"EA-{action.pk}" if action is not None else ""


@dataclass(frozen=True)
class Entitlement:
    """The answer for one model × customer pair."""

    frontier_model: FrontierModel
    partner_customer: PartnerCustomer
    reason: str
    grant: Grant | None = None
    conditions: list = field(default_factory=list)
    action: EnforcementAction | None = None

    @property
    def cleared(self):
        return self.reason == Reason.CLEARED

    @property
    def message(self):
        return MESSAGES[self.reason]

    @property
    def action_reference(self):
        return action_reference(self.action)


def _day(at):
    at = at or timezone.now()
    return timezone.localdate(at) if isinstance(at, datetime) else at


def _grants_query():
    return Grant.objects.select_related("suspended_by").prefetch_related(
        Prefetch(
            "conditions", queryset=Condition.objects.select_related("agency").order_by("agency__code", "pk")
        )
    )


def decide(frontier_model, partner_customer, grants, day, revocations):
    """The answer from the pair's grants (any order): the rule of ``is_customer_cleared`` first."""
    if frontier_model.release_phase == FrontierModel.ReleasePhase.WITHDRAWN:
        return Entitlement(frontier_model, partner_customer, Reason.MODEL_WITHDRAWN)
    covering = [
        g for g in grants if g.status == Grant.Status.ACTIVE and g.valid_from <= day and g.valid_to >= day
    ]
    if covering:
        grant = max(covering, key=lambda g: (g.valid_to, g.pk))
        return Entitlement(
            frontier_model, partner_customer, Reason.CLEARED, grant, list(grant.conditions.all())
        )
    if not grants:
        return Entitlement(frontier_model, partner_customer, Reason.NO_GRANT)
    latest = max(grants, key=lambda g: (g.status_changed_at, g.pk))
    conditions = list(latest.conditions.all())
    if latest.status == Grant.Status.SUSPENDED:
        return Entitlement(
            frontier_model, partner_customer, Reason.SUSPENDED, latest, conditions, latest.suspended_by
        )
    if latest.status == Grant.Status.REVOKED:
        return Entitlement(
            frontier_model, partner_customer, Reason.REVOKED, latest, conditions, revocations.get(latest.pk)
        )
    if latest.status == Grant.Status.ACTIVE and latest.valid_from > day:
        return Entitlement(frontier_model, partner_customer, Reason.NOT_YET_VALID, latest, conditions)
    return Entitlement(frontier_model, partner_customer, Reason.EXPIRED, latest, conditions)


def _revocations(grants):
    revoked = [g.pk for g in grants if g.status == Grant.Status.REVOKED]
    if not revoked:
        return {}
    actions = EnforcementAction.objects.filter(kind=EnforcementAction.Kind.REVOKE_GRANT, grant__in=revoked)
    return {action.grant_id: action for action in actions}


def entitlement(*, frontier_model, partner_customer, at=None):
    """The answer for one pair on ``at`` (default now): one query for the grants (with their
    conditions), one more only when the latest grant was revoked."""
    grants = list(_grants_query().filter(frontier_model=frontier_model, partner_customer=partner_customer))
    return decide(frontier_model, partner_customer, grants, _day(at), _revocations(grants))


def entitlements(pairs, *, at=None):
    """The answers for many ``(model, customer)`` pairs, in the order given, in a fixed number of
    queries whatever their number (grants, conditions, revocations)."""
    pairs = list(pairs)
    if not pairs:
        return []
    if len(pairs) > MAX_BATCH:
        raise ValueError(f"At most {MAX_BATCH} pairs at once.")
    model_ids = {m.pk for m, _ in pairs}
    customer_ids = {c.pk for _, c in pairs}
    grants = list(
        _grants_query().filter(frontier_model_id__in=model_ids, partner_customer_id__in=customer_ids)
    )
    by_pair = {}
    for grant in grants:
        by_pair.setdefault((grant.frontier_model_id, grant.partner_customer_id), []).append(grant)
    day = _day(at)
    revocations = _revocations(grants)
    return [decide(m, c, by_pair.get((m.pk, c.pk), []), day, revocations) for m, c in pairs]


def as_int(value):
    value = str(value).strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 19 else None


def _readable(model, user, vendor):
    """What ``user`` reads (``restrict``), or, for a vendor's API token, the vendor's own rows: a
    token is scoped to its vendor, and a vendor's members read exactly its models and customers
    (``vendors.services.share_with_vendor``), so both say the same; the token's form spares the
    hot entitlement check the object-permission joins."""
    if vendor is not None:
        return model.objects.filter(vendor=vendor)
    return model.objects.restrict(user)


def find_models(user, identifiers, *, vendor=None):
    """``{identifier: model or None}``: each identifier an id or a name (``name`` or
    ``name version``, case-insensitive) among the models ``user`` may read. A name that matches
    several models answers ``None`` (give the id)."""
    identifiers = {str(i).strip() for i in identifiers}
    ids = {n for i in identifiers if (n := as_int(i)) is not None}
    names = {i.lower() for i in identifiers if as_int(i) is None and i}
    visible = _readable(FrontierModel, user, vendor)
    query = Q(pk__in=ids)
    for name in names:
        query |= Q(name__iexact=name)
        if " " in name:
            head, version = name.rsplit(" ", 1)
            query |= Q(name__iexact=head, version__iexact=version)
    found = list(visible.filter(query)) if ids or names else []
    return pick_models(identifiers, found)


def pick_models(identifiers, found):
    """``find_models``'s choice among the candidate models ``found`` (those whose id or name
    matched): shared with the API's lean entitlement check, which fetches them by other means."""
    by_id = {m.pk: m for m in found}
    result = {}
    for identifier in identifiers:
        number = as_int(identifier)
        if number is not None:
            result[identifier] = by_id.get(number)
            continue
        low = identifier.lower()
        matches = [m for m in found if m.name.lower() == low or f"{m.name} {m.version}".lower() == low]
        exact = [m for m in matches if f"{m.name} {m.version}".lower() == low]
        matches = exact or matches
        result[identifier] = matches[0] if len(matches) == 1 else None
    return result


def find_customers(user, identifiers, *, vendor=None):
    """``{identifier: customer or None}``: each identifier an id or the vendor's own reference
    (the customer's registration id) among the customers ``user`` may read; a reference shared by
    several customers answers ``None``."""
    identifiers = {str(i).strip() for i in identifiers}
    ids = {n for i in identifiers if (n := as_int(i)) is not None}
    references = {i for i in identifiers if i}
    visible = _readable(PartnerCustomer, user, vendor)
    found = list(visible.filter(Q(pk__in=ids) | Q(registration_id__in=references))) if identifiers else []
    return pick_customers(identifiers, found)


def pick_customers(identifiers, found):
    """``find_customers``'s choice among the candidate customers ``found`` (id or reference
    matched): shared with the API's lean entitlement check."""
    by_id = {c.pk: c for c in found}
    result = {}
    for identifier in identifiers:
        by_reference = [c for c in found if c.registration_id and c.registration_id == identifier]
        number = as_int(identifier)
        if number is not None and number in by_id:
            result[identifier] = by_id[number]
        else:
            result[identifier] = by_reference[0] if len(by_reference) == 1 else None
    return result
