"""Every change the API app makes: tokens, webhook endpoints and deliveries."""

from api.services.tokens import authenticate_token, create_api_token, revoke_api_token
from api.services.webhooks import (
    deactivate_webhook_endpoint,
    record_webhook_event,
    redeliver_webhook,
    register_webhook_endpoint,
)

__all__ = [
    "authenticate_token",
    "create_api_token",
    "deactivate_webhook_endpoint",
    "record_webhook_event",
    "redeliver_webhook",
    "register_webhook_endpoint",
    "revoke_api_token",
]
