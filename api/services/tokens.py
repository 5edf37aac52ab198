"""Creating, revoking and checking API tokens."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from api import policies
from api.models import ApiToken
from api.models.tokens import TOKEN_PREFIX, hash_secret
from portal.audit.history import save_with_history
from portal.errors import PortalError

MAX_LIFETIME_DAYS = 365
LAST_USED_RESOLUTION = timedelta(minutes=1)


@transaction.atomic
def create_api_token(*, vendor, actor, name, scope, expires_in_days):
    """Make a token for ``vendor``; returns ``(token, secret)``. The secret is never stored and
    never shown again: only its SHA-256 and its first characters are kept."""
    policies.require_manage_integrations(actor, vendor)
    name = (name or "").strip()
    if not name:
        raise PortalError("Give the token a name that says what uses it.", field="name")
    if scope not in ApiToken.Scope.values:
        raise PortalError("Choose read or read-write.", field="scope")
    try:
        days = int(expires_in_days)
    except (TypeError, ValueError):
        raise PortalError("Give the token's lifetime in days.", field="expires_in_days") from None
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        raise PortalError(f"A token lives between 1 and {MAX_LIFETIME_DAYS} days.", field="expires_in_days")
    body = secrets.token_urlsafe(32)
    secret = f"{TOKEN_PREFIX}{body}"
    now = timezone.now()
    token = ApiToken(
        vendor=vendor,
        name=name,
        scope=scope,
        prefix=secret[: len(TOKEN_PREFIX) + 8],
        secret_sha256=hash_secret(secret),
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    save_with_history(
        token, actor=actor, reason=f"API token “{name}” ({token.get_scope_display().lower()}) created."
    )
    return token, secret


@transaction.atomic
def revoke_api_token(*, token, actor, reason=""):
    """Revoke a token at once; requests carrying it are refused from then on."""
    token = ApiToken.objects.select_for_update().select_related("vendor").get(pk=token.pk)
    policies.require_manage_integrations(actor, token.vendor)
    if token.revoked_at is not None:
        raise PortalError("This token is already revoked.")
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    why = (reason or "").strip()
    save_with_history(
        token,
        actor=actor,
        reason=f"API token “{token.name}” revoked." + (f" {why}" if why else ""),
        update_fields=["revoked_at", "revoked_by"],
    )
    return token


def token_digest(secret):
    """The SHA-256 to look ``secret`` up by, or ``None`` when it cannot be one of ours."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    return hash_secret(secret)


def token_acts(token, now):
    """Whether a stored ``token`` (with its vendor and creator) may be used at ``now``."""
    return token.is_usable(now) and policies.token_may_act(token, token.created_by)


def note_use(token, now):
    """Move ``last_used_at`` at most once a minute per token, so a busy integration does not
    write a row per read (not a change of record: no history)."""
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now


def authenticate_token(secret):
    """The usable token whose hash matches ``secret`` (with its vendor and creator), or ``None``.
    One indexed query, and the last use noted (``note_use``)."""
    digest = token_digest(secret)
    if digest is None:
        return None
    token = ApiToken.objects.select_related("vendor", "created_by").filter(secret_sha256=digest).first()
    now = timezone.now()
    if token is None or not token_acts(token, now):
        return None
    note_use(token, now)
    return token
