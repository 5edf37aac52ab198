"""Scheduled jobs of the portal itself (thin: each calls one function)."""

from celery import shared_task


@shared_task(name="portal.prune_retention")
def prune_retention():
    """Daily: sent notifications and sign-in events past their retention are deleted."""
    from portal import retention

    return retention.prune()


@shared_task(name="notifications.alert_if_outbox_stuck")
def alert_if_outbox_stuck():
    """Every five minutes: tell the portal administrators when e-mail is not going out."""
    from portal.notifications import outbox_health

    return outbox_health.alert_if_stuck()


@shared_task(name="portal.verify_audit_chain")
def verify_audit_chain():
    """Daily: walk every history chain; mail portal administrators and auditors if one is broken."""
    from portal.audit import alerts

    return alerts.verify_and_alert()
