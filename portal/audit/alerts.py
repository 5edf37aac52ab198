"""The daily check of the history chains (``portal-verify-audit-chain``) and its alarm."""

import logging

from django.db import transaction
from django.utils import timezone

from portal.audit import chain

logger = logging.getLogger(__name__)


def audit_recipients():
    """Portal administrators and auditors: the people who must hear that history was altered."""
    from portal.accounts.models import Role, User

    people = User.objects.filter(role__in=[Role.PORTAL_ADMIN, Role.AUDITOR], is_active=True)
    return list(people.exclude(email=""))


def verify_and_alert(*, today=None):
    """Walk every chain; on a mismatch log it and mail portal administrators and auditors (once a
    day). Returns ``{"rows": n, "broken": [text, …], "mailed": m}``."""
    from portal.notifications.services import notify

    checked, breaks = chain.verify_all()
    result = {"rows": checked, "broken": [str(b) for b in breaks], "mailed": 0}
    if not breaks:
        logger.info("Audit chain intact: %s history rows", checked, extra={"rows": checked})
        return result
    logger.error("Audit chain broken: %s", result["broken"][0], extra={"alert": "audit_chain_broken"})
    today = today or timezone.localdate()
    with transaction.atomic():
        rows = notify(
            event="audit_chain_broken",
            recipients=audit_recipients(),
            subject="The history chain is broken: a history row was altered",
            context={"count": len(breaks), "first": result["broken"][0]},
            link="/admin/audit-export/",
            key=f"audit-chain:{today.isoformat()}",
        )
    result["mailed"] = len(rows)
    return result
