"""Every change to the registry: one function per verb, each in one transaction.

Each service checks the actor's role and object permission and the record's state, writes
history with the actor and a reason, and grants object permissions on what it creates:
``view`` to the vendor's ``members_group`` and ``change`` to its ``editors_group``.

One module per topic: ``team``, ``frontier_models``, ``customers``, ``evidence``, ``imports``;
shared guards and helpers in ``_common``. Callers import from ``vendors.services``.
"""

from vendors.services._common import (  # noqa: F401
    CUSTOMER_FIELDS,
    CUSTOMER_IDENTITY_FIELDS,
    EDITOR_ROLES,
    MODEL_FIELDS,
    MODEL_REVIEWED_FIELDS,
    PROFILE_FIELDS,
    VENDOR_CREATOR_ROLES,
    share_with_group,
    share_with_vendor,
)
from vendors.services.customers import (  # noqa: F401
    clean_customer_fields,
    duplicate_customer_message,
    register_partner_customer,
    update_partner_customer,
)
from vendors.services.evidence import (  # noqa: F401
    attach_evidence,
    evidence_locked_reasons,
    remove_evidence,
    replace_evidence,
)
from vendors.services.frontier_models import (  # noqa: F401
    register_frontier_model,
    update_frontier_model,
    withdraw_frontier_model,
)
from vendors.services.imports import (  # noqa: F401
    MAX_LISTED_IMPORT_ERRORS,
    background_export_rows,
    background_import_rows,
    check_customer_rows,
    confirm_customer_import,
    import_partner_customers,
    preview_customer_import,
    start_customer_export_job,
    start_customer_import_job,
)
from vendors.services.team import (  # noqa: F401
    change_member_role,
    create_vendor,
    deactivate_member,
    invite_member,
    set_security_contact_notices,
    sync_member_groups,
    update_vendor_profile,
)
