"""Plain notices to partner customers' security contacts when their access is suspended or
revoked (issue 19): the customer learns that its access changed, never the case behind it.

Called with one line from ``suspension.suspend_model`` and ``grants.revoke_grant``, inside their
transaction, so the rows are written with the change and sent after it commits. A vendor may
switch the notices off (``Vendor.notify_customer_security_contacts``, on by default); its
compliance team is told in full either way. One message per address and action, naming every
customer of that contact the action concerns.
"""

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone

from approvals.models import Grant
from approvals.selectors.security_contacts import security_contacts_told
from approvals.services._common import _date
from portal.audit.bulk import int_array
from portal.notifications.services import notify_addresses

SUSPENDED_EVENT = "customer_access_suspended"
REVOKED_EVENT = "customer_access_revoked"


NAMED = 20


def _names(customers):
    named = ", ".join(customers[:NAMED])
    return named if len(customers) <= NAMED else f"{named} and {len(customers) - NAMED} more"


def tell_security_contacts(*, action, grants):
    """Mail the security contacts of the customers of ``grants`` (grants or their ids) once for
    ``action`` (a suspension or a revocation): rendered about twice and written with one ``COPY``
    however many they are (``notify_addresses``). Returns the ids of the rows written."""
    grant_ids = [g if isinstance(g, int) else g.pk for g in grants]
    if not grant_ids:
        return []
    # the suspension passes ids (it updates its grants as a set), the revocation one grant; their
    # customers are read by the contacts' own query (a subquery over one array of grant ids)
    if connection.vendor == "postgresql":
        grant_ids = RawSQL("SELECT unnest(%s::bigint[])", [int_array(grant_ids)])
    customer_ids = Grant.objects.filter(pk__in=grant_ids).order_by().values("partner_customer_id")
    revoked = action.kind == action.Kind.REVOKE_GRANT
    vendor = action.vendor
    model = str(action.frontier_model)
    by_address = {}
    for contact in security_contacts_told(vendor, customer_ids):
        by_address.setdefault(contact.email.lower(), []).append(contact)
    messages = []
    for contacts in by_address.values():
        customers = [c.customer for c in contacts]
        label = customers[0] if len(customers) == 1 else f"{customers[0]} and {len(customers) - 1} more"
        messages.append(
            {
                "address": contacts[0].email,
                "name": contacts[0].name,
                "subject": f"Access to {model} {'revoked' if revoked else 'suspended'}: {label}",
                "key": str(action.pk),
                "object_label": label,
                "context": {
                    "customers": _names(customers),
                    "model": model,
                    "vendor": str(vendor),
                    "vendor_contact": vendor.primary_contact_email,
                    "date": _date(timezone.localdate(action.taken_at)),
                },
            }
        )
    return notify_addresses(event=REVOKED_EVENT if revoked else SUSPENDED_EVENT, messages=messages)
