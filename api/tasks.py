"""Celery tasks for webhooks. Thin: each calls a service in ``services/webhooks.py``."""

from celery import shared_task

from api.services import webhooks


@shared_task(name="api.deliver_webhooks", bind=True, max_retries=None, acks_late=True)
def deliver_webhooks(self, endpoint_id):
    """Send an endpoint's due events in order. On a failure the task comes back after the backoff;
    in the in-process (eager) mode it does not (it would retry at once, in the caller's request):
    the row waits for the sweep."""
    wait = webhooks.deliver_pending(endpoint_id=endpoint_id)
    if wait is not None and not self.request.is_eager:
        raise self.retry(countdown=max(1, int(wait) + 1))
    return wait


@shared_task(name="api.sweep_webhooks")
def sweep_webhooks():
    return webhooks.sweep_webhooks()
