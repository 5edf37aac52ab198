"""Scheduled jobs of the review process (Celery beat). Each calls one service."""

from celery import shared_task

from approvals import services


@shared_task(name="approvals.return_lapsed_requests")
def return_lapsed_requests():
    """Return requests whose information request went unanswered past its deadline."""
    return services.return_lapsed_requests()


@shared_task(name="approvals.send_clock_reminders")
def send_clock_reminders():
    """Referrals due within 5 days or overdue; grants expiring in 30 and 7 days."""
    return services.send_clock_reminders()


@shared_task(name="approvals.expire_lapsed_grants")
def expire_lapsed_grants():
    """Grants whose last valid day has passed become expired."""
    return services.expire_lapsed_grants()


@shared_task(name="approvals.send_enforcement_reminders")
def send_enforcement_reminders():
    """Initial incident reports coming due or overdue; designation windows about to close."""
    from approvals import services

    return services.send_enforcement_reminders()


@shared_task(name="approvals.follow_through_suspensions")
def follow_through_suspensions():
    """Suspensions whose follow-through (PDF, attestations, mail) their own process did not finish."""
    return services.follow_through_pending()
