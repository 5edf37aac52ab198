"""Scheduled jobs for accounts. Tasks stay thin: they call a service."""

from celery import shared_task

from portal.accounts import services


@shared_task(name="accounts.deactivate_dormant_accounts")
def deactivate_dormant_accounts(dormant_days=90):
    return services.deactivate_dormant_accounts(dormant_days=dormant_days)
