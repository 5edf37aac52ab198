"""The Frontier Access Portal project package and its shared platform."""

from portal.celery import app as celery_app

__all__ = ["celery_app"]
