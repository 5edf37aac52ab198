"""Every change in the review process and in enforcement: one function per verb, each in one
transaction, one module per topic.

Each service locks the rows it changes (``select_for_update``; access requests first, then the
model or vendor, then grants, so that two services never wait on each other in opposite order),
asks ``approvals.policies`` whether the actor may act now, writes history with the actor and a
reason, and writes its notifications in the same transaction (the outbox sends them after
commit). Refusals are ``PortalError`` with a message for the person on the other side of the form.

This package exports the verbs; helpers stay in their modules.
"""

from approvals.services._common import ACTIVE_REFERRAL_STATUSES, MAX_DURATION_DAYS, UNDER_REVIEW
from approvals.services._notify import admin_action_link, admin_model_link, vendor_model_link
from approvals.services.amendments import (
    amend_frontier_model,
    amend_partner_customer,
    confirm_grant_facts,
    record_amendment,
)
from approvals.services.attestations import attest_cutoff, send_attestation_reminders
from approvals.services.decisions import (
    RESOLUTIONS,
    canonical_json,
    decision_snapshot,
    escalate_request,
    finalise_denial,
    record_decision,
    resolve_escalation,
    respond_to_intent_to_deny,
    snapshot_sha256,
)
from approvals.services.designation import (
    DESIGNATION_RESPONSE_DAYS,
    designate_supply_chain_risk,
    designation_response_days,
    rescind_designation,
    respond_to_designation,
)
from approvals.services.followthrough import follow_through_pending, follow_through_suspension
from approvals.services.grants import (
    RENEWAL_CLOSED_STATUSES,
    expire_lapsed_grants,
    request_grant_renewal,
    revoke_grant,
)
from approvals.services.incidents import (
    INCIDENT_REPORT_DAYS,
    complete_incident_report,
    incident_report_days,
    report_incident,
)
from approvals.services.prerelease import (
    clear_for_general_availability,
    clear_for_limited_preview,
    decline_clearance,
    record_review_finding,
    submit_for_prerelease_review,
)
from approvals.services.questions import (
    answer_information_request,
    issue_information_request,
    return_lapsed_requests,
)
from approvals.services.referrals import (
    add_internal_note,
    assign_officials,
    assign_to_me,
    draft_and_sign_position,
    draft_position,
    sign_position,
)
from approvals.services.reminders import (
    send_clock_reminders,
    send_enforcement_reminders,
)
from approvals.services.requests import (
    attach_request_document,
    completeness_defects,
    create_draft_request,
    discard_draft,
    remove_request_document,
    submit_request,
    update_draft,
    withdraw_request,
)
from approvals.services.returns import return_incomplete, return_without_action
from approvals.services.routing import (
    DEFAULT_ROUTING_RULES,
    create_agency,
    ensure_default_routing_rules,
    sync_official_groups,
)
from approvals.services.staffing import (
    confirm_staffing_change,
    propose_invitation,
    propose_role_change,
    propose_two_person_rule,
    reject_staffing_change,
)
from approvals.services.suspension import (
    attestation_hours,
    lift_suspension,
    suspend_model,
)

__all__ = [
    "ACTIVE_REFERRAL_STATUSES",
    "DEFAULT_ROUTING_RULES",
    "DESIGNATION_RESPONSE_DAYS",
    "INCIDENT_REPORT_DAYS",
    "MAX_DURATION_DAYS",
    "RENEWAL_CLOSED_STATUSES",
    "RESOLUTIONS",
    "UNDER_REVIEW",
    "add_internal_note",
    "admin_action_link",
    "admin_model_link",
    "amend_frontier_model",
    "amend_partner_customer",
    "answer_information_request",
    "assign_officials",
    "assign_to_me",
    "attach_request_document",
    "attest_cutoff",
    "attestation_hours",
    "canonical_json",
    "clear_for_general_availability",
    "clear_for_limited_preview",
    "complete_incident_report",
    "completeness_defects",
    "confirm_grant_facts",
    "confirm_staffing_change",
    "create_agency",
    "create_draft_request",
    "decision_snapshot",
    "decline_clearance",
    "designate_supply_chain_risk",
    "designation_response_days",
    "discard_draft",
    "draft_and_sign_position",
    "draft_position",
    "ensure_default_routing_rules",
    "escalate_request",
    "expire_lapsed_grants",
    "finalise_denial",
    "follow_through_pending",
    "follow_through_suspension",
    "incident_report_days",
    "issue_information_request",
    "lift_suspension",
    "propose_invitation",
    "propose_role_change",
    "propose_two_person_rule",
    "record_amendment",
    "record_decision",
    "record_review_finding",
    "reject_staffing_change",
    "remove_request_document",
    "report_incident",
    "request_grant_renewal",
    "rescind_designation",
    "resolve_escalation",
    "respond_to_designation",
    "respond_to_intent_to_deny",
    "return_incomplete",
    "return_lapsed_requests",
    "return_without_action",
    "revoke_grant",
    "send_attestation_reminders",
    "send_clock_reminders",
    "send_enforcement_reminders",
    "sign_position",
    "snapshot_sha256",
    "submit_for_prerelease_review",
    "submit_request",
    "suspend_model",
    "sync_official_groups",
    "update_draft",
    "vendor_model_link",
    "withdraw_request",
]
