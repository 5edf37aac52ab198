"""Events a vendor's own systems may want to hear of, announced by the services as they happen.

``vendor_event`` is sent inside the service's transaction, beside the notification rows, by the
helpers in ``services/_notify.py`` (and by grant expiry, which notifies no one). Apps above
``approvals`` (the API's webhooks) connect to it; ``approvals`` imports none of them.
Arguments: ``vendor``, ``event`` (the notification event's name), ``key`` (the notification key:
the decision, question, intent or enforcement action's id), and ``access_request`` or ``grant``
when the event concerns one.
"""

from django.dispatch import Signal

vendor_event = Signal()


def announce(vendor, *, event, key, access_request=None, grant=None):
    vendor_event.send(
        sender=None, vendor=vendor, event=event, key=str(key), access_request=access_request, grant=grant
    )
