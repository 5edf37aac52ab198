"""The agency dashboard (the Django admin): case pages, queues, enforcement, reference data.

Importing this package registers every admin class with the portal's admin site; the app's
``ready()`` does so. Whose history an agency official may export (``portal.audit.export``):
their own agency's referrals, positions and notes, and what the cases referred to them concern.
"""

from approvals import selectors
from approvals.agency_admin import cases, enforcement, lists, reference, staffing  # noqa: F401 (registration)
from portal.audit.export import register_scope

for _label, _scope in selectors.AUDIT_SCOPES.items():
    register_scope(_label, _scope)
