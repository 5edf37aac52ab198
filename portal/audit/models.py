"""The base every history table shares: the request id that wrote the row.

``HistoricalRecords(bases=[RequestIdHistory])`` adds ``history_request_id`` to a history
table; ``portal.audit.signals`` fills it from the request (or the Celery task, which
carries the request's id) in progress, so that an auditor can join a history row to the
log lines of the request that wrote it.
"""

from django.db import models


class RequestIdHistory(models.Model):
    history_request_id = models.CharField(
        "request id",
        max_length=64,
        blank=True,
        default="",
        db_index=True,
        help_text="The X-Request-ID of the web request (or its task) that wrote this row.",
    )

    class Meta:
        abstract = True
