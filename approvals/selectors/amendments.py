"""Reads of amendments: the facts of a case as reviewed beside today's, the amendments a case
shows, and the grants whose facts changed since approval (the lead agency's dashboard)."""

from django.db.models import Prefetch, Q
from django.utils import timezone

from approvals.models import AccessRequest, Amendment, Decision, Grant, GrantFactsChange
from approvals.policies import agency_of
from portal import permissions
from vendors.amendments import display_value, label_of, material_fields
from vendors.models import FrontierModel, PartnerCustomer, Vendor

CHANGED_GRANTS_SHOWN = 10


def case_amendments(access_request):
    """Amendments of the request's customer, model or vendor since it was submitted, newest first."""
    if access_request.submitted_at is None:
        return []
    return list(
        Amendment.objects.filter(
            Q(partner_customer_id=access_request.partner_customer_id)
            | Q(frontier_model_id=access_request.frontier_model_id)
            | Q(vendor_id=access_request.vendor_id, partner_customer=None, frontier_model=None),
            amended_at__gte=access_request.submitted_at,
        ).select_related("amended_by", "partner_customer", "frontier_model", "vendor")
    )


def _as_of(model, pk, when):
    """The record's version at ``when`` (its history row); its first version when its history
    starts later (rows written with a back-dated submission, as the demo's); else ``None``."""
    versions = model.history.filter(id=pk).order_by("-history_date", "-history_id")
    return (
        versions.filter(history_date__lte=when).first()
        or versions.order_by("history_date", "history_id").first()
    )


def _vendor_as_submitted(access_request, amendments):
    """The vendor's material facts (its legal name) when ``access_request`` was submitted.

    A request under review holds its vendor, so a later change of name is one of the case's
    ``amendments`` (when the caller has read them) and the earliest says the name before it; else
    the vendor's history at submission."""
    vendor = access_request.vendor
    if amendments is not None and access_request.status in AccessRequest.OPEN_STATUSES:
        own = [a for a in amendments if a.partner_customer_id is None and a.frontier_model_id is None]
        if not own:
            return {"legal_name": vendor.legal_name}
        first = min(own, key=lambda a: (a.amended_at, a.pk))
        return {
            "legal_name": next(
                (c["old"] for c in first.changes if c["field"] == "legal_name"), vendor.legal_name
            )
        }
    version = _as_of(Vendor, vendor.pk, access_request.submitted_at)
    return {"legal_name": version.legal_name} if version is not None else {}


def facts_as_reviewed(access_request, decision=None, *, amendments=None):
    """The material facts of the request's vendor, customer and model as reviewed, beside today's.

    As reviewed means the decision's snapshot once decided, else the record's version at
    submission (``amendments``, the case's as ``case_amendments`` read them, spare a query).
    Returns ``{"source": "...", "rows": [{record, label, reviewed, today, changed}],
    "changed": n}``; ``reviewed`` is ``None`` where the snapshot did not record that fact."""
    if access_request.submitted_at is None:
        return {"source": "", "rows": [], "changed": 0}
    if decision is None:
        decision = Decision.objects.filter(access_request=access_request).first()
    customer, model = access_request.partner_customer, access_request.frontier_model
    vendor = access_request.vendor
    if decision is not None:
        source = f"as decided on {timezone.localtime(decision.decided_at):%B %-d, %Y}"
        reviewed = {
            Vendor: decision.snapshot.get("vendor", {}),
            PartnerCustomer: decision.snapshot.get("customer", {}),
            FrontierModel: decision.snapshot.get("model", {}),
        }
    else:
        source = f"as submitted on {timezone.localtime(access_request.submitted_at):%B %-d, %Y}"
        reviewed = {Vendor: _vendor_as_submitted(access_request, amendments)}
        for record in (customer, model):
            version = _as_of(type(record), record.pk, access_request.submitted_at)
            reviewed[type(record)] = (
                {f: getattr(version, f) for f in material_fields(record)} if version is not None else {}
            )
    rows = []
    for heading, record in (("Vendor", vendor), ("Customer", customer), ("Model", model)):
        kind = type(record)
        for field in material_fields(record):
            today = display_value(kind, field, getattr(record, field))
            known = field in reviewed[kind]
            then = display_value(kind, field, reviewed[kind][field]) if known else None
            rows.append(
                {
                    "record": heading,
                    "label": label_of(kind, field),
                    "reviewed": then,
                    "today": today,
                    "changed": known and then != today,
                }
            )
    return {"source": source, "rows": rows, "changed": sum(1 for r in rows if r["changed"])}


def pending_facts_changes(grant):
    """The amendments a grant waits on the lead agency to confirm or act on, newest first."""
    if grant is None:
        return []
    return list(
        GrantFactsChange.objects.filter(grant=grant, status=GrantFactsChange.Status.PENDING).select_related(
            "amendment__amended_by"
        )
    )


def grants_with_changed_facts(user):
    """Grants in force (active, or suspended: the facts still wait on the lead) that ``user`` may
    read whose facts changed since approval, oldest change first; each with ``pending`` (its
    unconfirmed ``GrantFactsChange`` rows and their amendments)."""
    pending = GrantFactsChange.objects.filter(status=GrantFactsChange.Status.PENDING)
    in_force = (Grant.Status.ACTIVE, Grant.Status.SUSPENDED)
    queryset = (
        Grant.objects.filter(status__in=in_force, pk__in=pending.values("grant_id"))
        .select_related("access_request", "partner_customer", "frontier_model", "vendor")
        .prefetch_related(
            Prefetch(
                "facts_changes",
                queryset=pending.select_related("amendment__amended_by").order_by("amendment__amended_at"),
                to_attr="pending",
            )
        )
        .order_by("pk")
    )
    return permissions.visible_to(user, queryset)


def changed_grants_panel(user):
    """The lead agency's panel (auditors read it too): the count and the first rows."""
    agency = agency_of(user)
    if not ((agency is not None and agency.is_lead) or getattr(user, "sees_everything", False)):
        return None
    grants = grants_with_changed_facts(user)
    return {"count": grants.count(), "grants": list(grants[:CHANGED_GRANTS_SHOWN])}
