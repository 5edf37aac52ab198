"""The review process's data, one module per topic (see the README's Architecture).

Rows hold data and the invariants of one row; every state change lives in
``approvals.services``. Nothing else assigns a ``status``.
"""

from approvals.models.agencies import (
    Agency,
    RoutingRule,
)
from approvals.models.amendments import (
    Amendment,
    GrantFactsChange,
)
from approvals.models.dashboard import DashboardMark, DashboardTally
from approvals.models.decisions import (
    Decision,
    Escalation,
    IntentToDeny,
)
from approvals.models.enforcement import (
    CutoffAttestation,
    EnforcementAction,
    EnforcementActionGroupObjectPermission,
    EnforcementActionUserObjectPermission,
    IncidentReport,
    IncidentReportGroupObjectPermission,
    IncidentReportUserObjectPermission,
    PrereleaseReview,
    PrereleaseReviewGroupObjectPermission,
    PrereleaseReviewUserObjectPermission,
    ReviewFinding,
)
from approvals.models.grants import (
    Grant,
    GrantGroupObjectPermission,
    GrantUserObjectPermission,
)
from approvals.models.letters import Letter
from approvals.models.requests import (
    GRANT_DAYS,
    INFORMATION_REQUEST_DAYS,
    INTENT_TO_DENY_DAYS,
    REFERRAL_DAYS,
    AccessRequest,
    AccessRequestGroupObjectPermission,
    AccessRequestUserObjectPermission,
    InternalNote,
    RequestCount,
    RequestDocument,
    TrackingCounter,
)
from approvals.models.review import (
    Condition,
    InformationRequest,
    InformationRequestGroupObjectPermission,
    InformationRequestUserObjectPermission,
    Position,
    Referral,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from approvals.models.staffing import StaffingChange

__all__ = [
    "GRANT_DAYS",
    "INFORMATION_REQUEST_DAYS",
    "INTENT_TO_DENY_DAYS",
    "REFERRAL_DAYS",
    "AccessRequest",
    "AccessRequestGroupObjectPermission",
    "AccessRequestUserObjectPermission",
    "Agency",
    "Amendment",
    "Condition",
    "CutoffAttestation",
    "DashboardMark",
    "DashboardTally",
    "Decision",
    "EnforcementAction",
    "EnforcementActionGroupObjectPermission",
    "EnforcementActionUserObjectPermission",
    "Escalation",
    "Grant",
    "GrantFactsChange",
    "GrantGroupObjectPermission",
    "GrantUserObjectPermission",
    "IncidentReport",
    "IncidentReportGroupObjectPermission",
    "IncidentReportUserObjectPermission",
    "InformationRequest",
    "InformationRequestGroupObjectPermission",
    "InformationRequestUserObjectPermission",
    "IntentToDeny",
    "InternalNote",
    "Letter",
    "Position",
    "PrereleaseReview",
    "PrereleaseReviewGroupObjectPermission",
    "PrereleaseReviewUserObjectPermission",
    "Referral",
    "ReferralGroupObjectPermission",
    "ReferralUserObjectPermission",
    "RequestCount",
    "RequestDocument",
    "ReviewFinding",
    "RoutingRule",
    "StaffingChange",
    "TrackingCounter",
]
