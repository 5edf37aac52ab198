"""Grants: the entitlement answer ("is this customer cleared for this model now?") and grant lists."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Prefetch
from django.utils import timezone

from approvals.models import (
    Condition,
    Grant,
)
from portal import permissions


@dataclass(frozen=True)
class Clearance:
    grant: Grant
    conditions: list


def is_customer_cleared(*, frontier_model, partner_customer, at=None):
    """Is ``partner_customer`` cleared for ``frontier_model`` at ``at`` (default now)?

    Answered from grants alone: the active grant whose validity covers the day, with its
    conditions, or ``None``.
    """
    at = at or timezone.now()
    day = timezone.localdate(at) if isinstance(at, datetime) else at
    grant = (
        Grant.objects.filter(
            frontier_model=frontier_model,
            partner_customer=partner_customer,
            status=Grant.Status.ACTIVE,
            valid_from__lte=day,
            valid_to__gte=day,
        )
        .prefetch_related(Prefetch("conditions", queryset=Condition.objects.select_related("agency")))
        .order_by("-valid_to")
        .first()
    )
    if grant is None:
        return None
    return Clearance(grant=grant, conditions=list(grant.conditions.all()))


def grants_visible_to(user):
    queryset = Grant.objects.select_related("access_request", "frontier_model", "partner_customer", "vendor")
    return permissions.visible_to(user, queryset)


def active_grant_counts(user, frontier_models):
    """``{model id: {status: count}}`` over the grants ``user`` may read, in one query."""
    rows = (
        grants_visible_to(user)
        .filter(frontier_model__in=[m.pk for m in frontier_models])
        .order_by()
        .values("frontier_model_id", "status")
        .annotate(n=Count("pk"))
    )
    counts = {}
    for row in rows:
        counts.setdefault(row["frontier_model_id"], {})[row["status"]] = row["n"]
    return counts


EXPIRING_SOON_DAYS = 60


def grants_expiring_soon(user, *, vendor, days=EXPIRING_SOON_DAYS, today=None):
    """Active grants of ``vendor`` that ``user`` reads and that end within ``days`` days, soonest first."""
    today = today or timezone.localdate()
    return list(
        permissions.visible_to(user, Grant.objects.all())
        .filter(
            vendor=vendor,
            status=Grant.Status.ACTIVE,
            valid_to__gte=today,
            valid_to__lte=today + timedelta(days=days),
        )
        .select_related("frontier_model", "partner_customer", "access_request")
        .order_by("valid_to", "pk")
    )
