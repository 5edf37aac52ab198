"""API tokens: a vendor's credential for its integrations, stored only as a hash."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.audit.models import ChainedHistory
from vendors.models import Vendor

TOKEN_PREFIX = "fap_"


def hash_secret(secret):
    """SHA-256 of the whole token. Tokens carry 256 random bits, so a fast hash is enough."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(models.Model):
    """A bearer token of one vendor, created by one of its compliance admins.

    The token is shown once when it is made; the portal keeps its first characters (to tell
    tokens apart in lists and logs) and the SHA-256 of the whole. It acts as its creator,
    limited to reading when its scope is ``read``, until it expires or is revoked.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “provisioning system”.")
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_sha256 = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    history = ChainedHistory(excluded_fields=["last_used_at"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("created_at")),
                name="api_token_expires_after_creation",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    def is_usable(self, now=None):
        return self.revoked_at is None and self.expires_at > (now or timezone.now())

    @property
    def can_write(self):
        return self.scope == self.Scope.READ_WRITE


class ApiTokenUse(models.Model):
    """One write through the API: which token, on whose behalf, which request (joinable to the
    history rows it wrote by ``request_id``). Reads only move ``ApiToken.last_used_at``."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="uses")
    acting_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    request_id = models.CharField(max_length=64, blank=True, db_index=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status_code = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["token", "-at"])]

    def __str__(self):
        return f"{self.method} {self.path} with {self.token}"
