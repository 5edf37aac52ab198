"""``Idempotency-Key``: a retried write answers what the first one answered, and files nothing."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class IdempotentResponse(models.Model):
    """The response to the first write carrying ``key`` from ``user``; the same key with a
    different body is refused (422) rather than answered with another request's result."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self):
        return f"{self.method} {self.path} ({self.key})"
