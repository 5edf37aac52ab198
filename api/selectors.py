"""Reads the API pages share: a vendor's tokens, their recorded uses, endpoints and deliveries."""

from api.models import ApiToken, ApiTokenUse, WebhookDelivery, WebhookEndpoint

RECENT = 50


def tokens_of(vendor):
    return ApiToken.objects.filter(vendor=vendor).select_related("created_by", "revoked_by")


def token_uses(vendor, limit=RECENT):
    """The latest writes made with the vendor's tokens, each with the token and its creator."""
    return ApiTokenUse.objects.filter(token__vendor=vendor).select_related("token", "acting_user")[:limit]


def webhook_endpoints_of(vendor):
    return WebhookEndpoint.objects.filter(vendor=vendor).select_related("created_by")


def recent_deliveries(vendor, limit=RECENT):
    return WebhookDelivery.objects.filter(endpoint__vendor=vendor).select_related("endpoint")[:limit]
