"""Health checks: ``/healthz`` says only up or down; the details are for operators."""

import pytest

from portal.celery import app as celery_app
from portal.tests.factories import UserFactory, agency_user, vendor_user

pytestmark = pytest.mark.django_db

DETAILS = "/healthz/details"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def portal_admin():
    from portal.accounts.models import Organisation, Role
    from portal.tests.factories import OrganisationFactory

    return UserFactory(
        organisation=OrganisationFactory(kind=Organisation.Kind.OPERATOR),
        role=Role.PORTAL_ADMIN,
        is_staff=True,
    )


def test_all_up_on_the_embedded_default(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    details = client.get(DETAILS).json()
    assert set(details["checks"]) == {"database", "cache", "broker", "pages"}
    assert details["down"] == []
    assert all(isinstance(check["ms"], float) for check in details["checks"].values())


def test_readiness_renders_a_page(client):
    assert client.get("/healthz/ready").json() == {"status": "ok"}


def test_readiness_fails_when_pages_cannot_render(client, settings, tmp_path):
    # the image's failure of issue 12: manifest storage without a manifest
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    assert client.get("/healthz").status_code == 200  # a load balancer's view: the database is up
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json() == {"status": "down"}
    details = client.get(DETAILS).json()
    assert details["down"] == ["pages"]
    assert "manifest" in details["checks"]["pages"]["error"]


def test_cache_down_is_named_only_in_the_details(client, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    from django.core.cache import caches

    del caches.settings  # let the override take effect
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "down"}
    assert b"127.0.0.1:1" not in response.content
    assert client.get(DETAILS).json()["down"] == ["cache"]
    # an expected outage is one warning line each time, never a traceback
    warnings = [r for r in caplog.records if r.name == "portal.health"]
    assert warnings
    assert all(r.levelname == "WARNING" and r.exc_info is None for r in warnings)


def test_broker_down_is_named(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        assert client.get("/healthz").status_code == 503
        response = client.get(DETAILS)
    finally:
        celery_app.conf.broker_url = previous
    assert response.status_code == 503
    body = response.json()
    assert body["down"] == ["broker"]
    assert body["checks"]["broker"]["ok"] is False


@pytest.mark.parametrize(
    ("who", "expected"), [(None, 404), ("vendor", 404), ("agency", 404), ("portal_admin", 200)]
)
def test_details_from_outside_only_for_portal_administrators(client, who, expected):
    users = {"vendor": vendor_user, "agency": agency_user, "portal_admin": portal_admin}
    if who:
        client.force_login(users[who]())
    assert client.get(DETAILS, **OUTSIDE).status_code == expected


def test_details_from_outside_with_the_metrics_token(client, settings):
    settings.METRICS_TOKEN = "t0ken-for-scrapers"
    assert client.get(DETAILS, **OUTSIDE).status_code == 404
    assert client.get(DETAILS, HTTP_AUTHORIZATION="Bearer wrong", **OUTSIDE).status_code == 404
    assert client.get(DETAILS, HTTP_AUTHORIZATION="Bearer t0ken-for-scrapers", **OUTSIDE).status_code == 200


@pytest.mark.integration
def test_redis_cache_and_broker_up(client, settings, redis_url):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}
    }
    from django.core.cache import caches

    del caches.settings
    settings.CELERY_TASK_ALWAYS_EAGER = False
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = redis_url
    try:
        response = client.get(DETAILS)
    finally:
        celery_app.conf.broker_url = previous
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["broker"]["mode"] == "redis"
    assert response.json()["checks"]["cache"]["backend"] == "RedisCache"
