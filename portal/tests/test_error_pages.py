"""Branded error pages with a way back, and /admin/ sends vendors to their own pages."""

import pytest
from django.test import Client
from django.urls import path

from portal.tests.factories import agency_user, vendor_user

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("secret internals: password=hunter2")


def forbidden(request):
    from django.core.exceptions import PermissionDenied

    raise PermissionDenied


def bad(request):
    from django.core.exceptions import SuspiciousOperation

    raise SuspiciousOperation("tampered")


urlpatterns = [path("boom/", boom), path("forbidden/", forbidden), path("bad/", bad)]
handler400 = "portal.error_pages.bad_request"
handler403 = "portal.error_pages.permission_denied"
handler404 = "portal.error_pages.page_not_found"
handler500 = "portal.error_pages.server_error"


@pytest.fixture
def production_like(settings):
    settings.DEBUG = False
    settings.ROOT_URLCONF = __name__


def test_404_is_branded_with_a_way_to_the_vendor_dashboard(client, settings):
    settings.DEBUG = False
    client.force_login(vendor_user())
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html
    assert "Frontier Access Portal" in html
    assert 'href="/vendor/"' in html
    assert response["X-Request-ID"] in html


def test_404_for_an_official_leads_to_the_agency_dashboard(client, settings):
    settings.DEBUG = False
    client.force_login(agency_user())
    html = client.get("/vendor/no-such-page/").content.decode()
    assert 'href="/admin/"' in html
    assert "Go to the agency dashboard" in html


def test_404_signed_out_leads_to_sign_in(client, settings):
    settings.DEBUG = False
    assert 'href="/accounts/login/"' in client.get("/no-such-page/").content.decode()


def test_500_is_branded_and_shows_no_stack_trace(production_like):
    client = Client(raise_request_exception=False)
    client.force_login(vendor_user())
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert 'href="/vendor/"' in html
    assert "hunter2" not in html
    assert "Traceback" not in html
    assert "RuntimeError" not in html


def test_403_and_400_are_branded(production_like, client):
    client.force_login(agency_user())
    response = client.get("/forbidden/")
    assert response.status_code == 403
    assert "You may not do that" in response.content.decode()
    response = client.get("/bad/")
    assert response.status_code == 400
    assert "could not be understood" in response.content.decode()
    assert "tampered" not in response.content.decode()


def test_a_refused_form_token_is_a_branded_403(settings):
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "a@b.example", "password": "x"})
    assert response.status_code == 403
    assert "You may not do that" in response.content.decode()


def test_a_vendor_opening_admin_is_sent_to_the_vendor_pages(client):
    client.force_login(vendor_user())
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/vendor/"
    assert response.status_code == 200


def test_a_vendor_opening_a_deeper_admin_address_gets_404(client):
    client.force_login(vendor_user())
    response = client.get("/admin/accounts/user/", follow=True)
    assert response.status_code == 404


def test_signed_out_admin_goes_to_sign_in(client):
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
