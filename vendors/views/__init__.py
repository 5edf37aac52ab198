"""Vendor-facing pages. Every page is for members of a vendor only; anyone else gets 404.

Views parse, call one service, and render the result or the service's refusal. Viewers read;
every change page answers 404 to them, as does every record of another vendor.

One module per area: ``dashboard``, ``frontier_models``, ``evidence``, ``customers``, ``team``;
the membership decorator and shared helpers in ``_common``. ``vendors/urls.py`` imports from here.
"""

from vendors.views._common import (  # noqa: F401
    PAGE_SIZE,
    vendor_member_required,
)
from vendors.views.customers import (  # noqa: F401
    customer_create,
    customer_detail,
    customer_edit,
    customer_export,
    customer_import,
    customer_import_preview,
    customer_import_template,
    customer_list,
    customer_search,
)
from vendors.views.dashboard import (  # noqa: F401
    dashboard,
)
from vendors.views.evidence import (  # noqa: F401
    customer_evidence_new,
    evidence_download,
    evidence_remove,
    evidence_replace,
    model_evidence_new,
)
from vendors.views.frontier_models import (  # noqa: F401
    model_create,
    model_detail,
    model_edit,
    model_list,
    model_withdraw,
)
from vendors.views.team import (  # noqa: F401
    profile,
    profile_edit,
    profile_notices,
    team,
    team_invite,
    team_member,
)
