"""Reads of the registry shared by the vendor pages and the admin; every list goes through
``portal.permissions.visible_to``."""

from django.db.models import Count, Q

from portal.accounts.models import User
from portal.permissions import visible_to
from vendors.choices import CRITICAL_INFRASTRUCTURE_SECTORS, UNITED_STATES
from vendors.models import CustomerImport, EvidenceDocument, FrontierModel, PartnerCustomer, Vendor


def vendor_for(user):
    """The vendor ``user`` is a member of (and may see), or ``None``."""
    if not (user and user.is_authenticated and user.is_vendor_member):
        return None
    cached = getattr(user, "_vendor_for_cache", None)
    if cached is None:
        cached = (
            visible_to(user, Vendor.objects.filter(organisation_id=user.organisation_id))
            .select_related("organisation")
            .first()
        )
        user._vendor_for_cache = cached
    return cached


def frontier_models_for(user, *, vendor=None, q="", phase="", frontier=""):
    """Models ``user`` may see, searched by name, version or description, filtered by phase and by
    whether they are frontier by compute (``frontier`` = ``yes`` / ``no``)."""
    from django.conf import settings

    qs = visible_to(user, FrontierModel.objects.select_related("vendor"))
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    q = " ".join((q or "").split())
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(version__icontains=q) | Q(description__icontains=q))
    if phase in FrontierModel.ReleasePhase.values:
        qs = qs.filter(release_phase=phase)
    threshold = settings.FRONTIER_COMPUTE_THRESHOLD_FLOP
    is_frontier = Q(training_compute_flop__gte=threshold) | Q(designated_frontier=True)
    if frontier == "yes":
        qs = qs.filter(is_frontier)
    elif frontier == "no":
        qs = qs.exclude(is_frontier)
    return qs.order_by("name", "version", "pk")


def partner_customers_for(user, *, vendor=None, q="", country="", sector="", location=""):
    """Customers ``user`` may see, searched by name, registration id or contact, filtered by
    country, sector (``critical`` = any critical-infrastructure sector) and ``location``
    (``us`` / ``non_us``)."""
    qs = visible_to(user, PartnerCustomer.objects.select_related("vendor"))
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    q = " ".join((q or "").split())
    if q:
        qs = qs.filter(
            Q(legal_name__icontains=q)
            | Q(registration_id__icontains=q)
            | Q(security_contact_email__icontains=q)
            | Q(intended_use__icontains=q)
        )
    if country:
        qs = qs.filter(country=country.upper()[:2])
    if sector == "critical":
        qs = qs.filter(sector__in=CRITICAL_INFRASTRUCTURE_SECTORS)
    elif sector:
        qs = qs.filter(sector=sector)
    if location == "us":
        qs = qs.filter(country=UNITED_STATES)
    elif location == "non_us":
        qs = qs.exclude(country=UNITED_STATES)
    return qs.order_by("legal_name", "pk")


def evidence_for(user, obj):
    """The evidence documents on a model or a customer that ``user`` may see."""
    return visible_to(user, obj.evidence_documents.select_related("uploaded_by")).order_by("-uploaded_at")


def evidence_documents_for(user, *, vendor=None):
    qs = visible_to(
        user, EvidenceDocument.objects.select_related("vendor", "frontier_model", "partner_customer")
    )
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    return qs


def team_of(vendor):
    """The vendor's people, active first, admins first."""
    return User.objects.filter(organisation_id=vendor.organisation_id).order_by(
        "-is_active", "role", "full_name", "email"
    )


def customer_imports_for(user, *, vendor):
    return visible_to(user, CustomerImport.objects.filter(vendor=vendor)).order_by("-created_at")


def registry_summary(user, vendor):
    """What the dashboard shows: models by phase, customers by kind, and the latest changes."""
    from django.conf import settings

    models = frontier_models_for(user, vendor=vendor)
    by_phase = dict(models.order_by().values_list("release_phase").annotate(n=Count("pk")))
    phases = [(value, label, by_phase.get(value, 0)) for value, label in FrontierModel.ReleasePhase.choices]
    customers = partner_customers_for(user, vendor=vendor)
    customer_counts = customers.order_by().aggregate(
        total=Count("pk"),
        critical=Count("pk", filter=Q(sector__in=CRITICAL_INFRASTRUCTURE_SECTORS)),
        non_us=Count("pk", filter=~Q(country=UNITED_STATES)),
        unattested=Count("pk", filter=Q(attestation=False)),
    )
    frontier = models.filter(
        Q(training_compute_flop__gte=settings.FRONTIER_COMPUTE_THRESHOLD_FLOP) | Q(designated_frontier=True)
    ).count()
    recent_models = list(models.order_by("-updated_at", "-pk")[:5])
    recent_customers = list(customers.order_by("-updated_at", "-pk")[:5])
    return {
        "phases": phases,
        "model_total": sum(by_phase.values()),
        "frontier_total": frontier,
        "customers": customer_counts,
        "recent_models": recent_models,
        "recent_customers": recent_customers,
        "team_total": team_of(vendor).filter(is_active=True).count(),
    }


SEARCH_RESULTS = 20


def customer_search(user, *, vendor, q="", limit=SEARCH_RESULTS):
    """Up to ``limit`` of the vendor's partner customers ``user`` may see whose name or registration
    id contains ``q`` (names starting with it first), for the pickers' search."""
    qs = visible_to(user, PartnerCustomer.objects.filter(vendor=vendor))
    q = " ".join((q or "").split())[:100]
    if q:
        qs = qs.filter(Q(legal_name__icontains=q) | Q(registration_id__icontains=q))
        starts = qs.filter(legal_name__istartswith=q).order_by("legal_name", "pk")[:limit]
        found = list(starts)
        if len(found) < limit:
            seen = [c.pk for c in found]
            found += list(qs.exclude(pk__in=seen).order_by("legal_name", "pk")[: limit - len(found)])
        return found
    return list(qs.order_by("legal_name", "pk")[:limit])
