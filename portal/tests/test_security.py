"""Sign-in throttling, sign-in records and security headers."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from portal.accounts.models import SignInEvent
from portal.tests.factories import PASSWORD, auditor, vendor_user

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins"


def attempt(client, email, password):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_five_failures_lock_the_address_even_with_the_right_password(client):
    # django-axes (issue 13): the fifth failure locks; every later attempt is refused and recorded
    user = vendor_user()
    for _ in range(4):
        assert LOCKED not in attempt(client, user.email, "wrong").content.decode()
    assert LOCKED in attempt(client, user.email, "wrong").content.decode()
    response = attempt(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert SignInEvent.objects.filter(email=user.email, outcome="locked_out").count() == 2


def test_unknown_addresses_lock_the_same_way_so_nothing_is_revealed(client):
    for _ in range(4):
        attempt(client, "nobody@example.org", "wrong")
    assert LOCKED in attempt(client, "nobody@example.org", "wrong").content.decode()


def test_a_success_before_the_limit_clears_the_count(client):
    user = vendor_user()
    for _ in range(4):
        attempt(client, user.email, "wrong")
    assert attempt(client, user.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        attempt(client, user.email, "wrong")
    assert attempt(client, user.email, PASSWORD).status_code == 302


def test_sign_in_sign_out_and_failures_are_recorded(client):
    user = vendor_user()
    attempt(client, user.email, "wrong")
    attempt(client, user.email, PASSWORD)
    client.post("/accounts/logout/")
    outcomes = list(
        SignInEvent.objects.filter(email=user.email).order_by("at", "id").values_list("outcome", flat=True)
    )
    assert outcomes == ["failed", "signed_in", "signed_out"]
    assert SignInEvent.objects.filter(
        email=user.email, outcome="signed_in", user=user, ip_address="127.0.0.1"
    ).exists()


def test_sign_in_records_are_read_only_for_the_auditor_and_hidden_from_officials(client):
    vendor = vendor_user()
    attempt(client, vendor.email, PASSWORD)
    client.logout()
    client.force_login(auditor())
    page = client.get("/admin/accounts/signinevent/")
    assert page.status_code == 200
    assert vendor.email in page.content.decode()
    assert client.get("/admin/accounts/signinevent/add/").status_code == 403


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def _directives(policy):
    parts = (part.strip().partition(" ") for part in policy.split(";"))
    return {name: rest.split() for name, _, rest in parts}


@pytest.mark.parametrize("who", ["vendor", "official"])
def test_styles_come_from_style_sheets_of_this_origin_only(client, who):
    # given a signed-in vendor on the vendor pages, or an official on the agency dashboard
    if who == "vendor":
        client.force_login(vendor_user())
        response = client.get("/vendor/")
    else:
        client.force_login(auditor())
        response = client.get("/admin/")
    assert response.status_code == 200
    # then style-src is 'self' alone: no 'unsafe-inline', no other origin
    assert _directives(response["Content-Security-Policy"])["style-src"] == ["'self'"]
    # and the page itself carries no inline style the browser would refuse
    html = response.content.decode()
    assert not re.search(r"<style|\sstyle=", html)


def _page_templates():
    """Every template of the project's own (not the e-mail layouts and bodies)."""
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += [p for p in Path(settings.BASE_DIR).glob("*/templates")]
    roots += [p for p in Path(settings.BASE_DIR).glob("*/*/templates")]
    for root in roots:
        for path in root.rglob("*.html"):
            if "notifications/email" not in path.relative_to(root).as_posix():
                yield path


def test_no_page_template_has_an_inline_style():
    templates = list(_page_templates())
    assert len(templates) > 50  # the walk found the project's templates
    offenders = [
        f"{path}:{number}"
        for path in templates
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"<style|\sstyle=", line)
    ]
    assert offenders == []


def test_sign_in_still_works_when_the_cache_is_down(client, settings):
    from django.core.cache import caches

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    del caches.settings
    user = vendor_user()
    assert attempt(client, user.email, "wrong").status_code == 200
    assert attempt(client, user.email, PASSWORD).status_code == 302


def test_the_history_list_override_is_the_installed_one_without_its_style_attribute():
    import simple_history

    name = "simple_history/object_history_list.html"
    installed = (Path(simple_history.__file__).parent / "templates" / name).read_text()
    ours = (Path(settings.BASE_DIR) / "templates" / name).read_text()
    comment, _, ours = ours.partition("{% endcomment %}\n")
    assert "style attribute" in comment
    assert ours == installed.replace(' style="border-top: 0"', "")
    assert ours != installed
