"""The demo's staffing change: DOC's administrator has invited a new approver, and the grant
waits for DOC's second administrator (sign in as ``deputy@doc.example`` to confirm it)."""

from approvals import services
from approvals.models import StaffingChange
from portal.accounts.models import Role, User

NEW_APPROVER = "analyst@doc.example"


def seed_staffing():
    admin = User.objects.filter(email="admin@doc.example", role=Role.AGENCY_ADMIN).first()
    if admin is None or StaffingChange.objects.filter(email=NEW_APPROVER).exists():
        return None
    return services.propose_invitation(
        email=NEW_APPROVER,
        full_name="Avery Lin",
        role=Role.AGENCY_APPROVER,
        actor=admin,
        reason="Second approver for the export-control desk (demo).",
    )
