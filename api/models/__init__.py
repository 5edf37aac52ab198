from api.models.idempotency import IdempotentResponse
from api.models.tokens import ApiToken, ApiTokenUse
from api.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = ["ApiToken", "ApiTokenUse", "IdempotentResponse", "WebhookDelivery", "WebhookEndpoint"]
