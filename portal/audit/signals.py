"""Stamps every new history row with the current request id (when its table has the field)."""

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from portal.observability.context import current_request_id


@receiver(pre_create_historical_record)
def stamp_request_id(sender, history_instance=None, **kwargs):
    if history_instance is not None and hasattr(history_instance, "history_request_id"):
        history_instance.history_request_id = current_request_id()[:64]
