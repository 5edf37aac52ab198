"""Whose security contacts hear of a suspension or a revocation (issue 19)."""

from dataclasses import dataclass

from django.db.models import QuerySet

from approvals.models import Grant
from vendors.models import PartnerCustomer


@dataclass(frozen=True)
class SecurityContact:
    """One partner customer's security contact, as it is on file."""

    customer_id: int
    customer: str
    name: str
    email: str


def security_contacts_told(vendor, customer_ids):
    """The security contacts of the partner customers ``customer_ids`` (ids, or a subquery of them)
    that will be mailed: none
    when the vendor has switched the notices off, and none without an address on file."""
    if not vendor.notify_customer_security_contacts:
        return []
    if not isinstance(customer_ids, QuerySet):
        customer_ids = set(customer_ids)
    customers = (
        PartnerCustomer.objects.filter(vendor=vendor, pk__in=customer_ids)
        .exclude(security_contact_email="")
        .order_by("legal_name", "pk")
        .values_list("pk", "legal_name", "security_contact_name", "security_contact_email")
    )
    return [SecurityContact(*row) for row in customers]  # (thousands for a large suspension: no objects)


def security_contacts_for_suspension(frontier_model, customers=None):
    """The security contacts a suspension of ``frontier_model`` (of ``customers`` only, when given)
    would mail now."""
    grants = Grant.objects.filter(frontier_model=frontier_model, status=Grant.Status.ACTIVE)
    if customers is not None:
        grants = grants.filter(partner_customer_id__in=customers)
    customer_ids = grants.values_list("partner_customer_id", flat=True)
    return security_contacts_told(frontier_model.vendor, list(customer_ids))


def security_contacts_for_revocation(grant):
    """The security contact a revocation of ``grant`` would mail."""
    return security_contacts_told(grant.vendor, [grant.partner_customer_id])
