"""Each message level looks like what it is: an information is not shown as a success."""

import pytest
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.cache import SessionStore
from django.template.loader import render_to_string
from django.test import RequestFactory


@pytest.mark.parametrize(
    ("add", "look"),
    [
        (messages.info, "usa-alert--info"),
        (messages.success, "usa-alert--success"),
        (messages.warning, "usa-alert--warning"),
        (messages.error, "usa-alert--error"),
    ],
)
def test_a_message_is_shown_at_its_level(db, add, look):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    add(request, "FAR-2026-000001 is already complete.")
    page = render_to_string("base.html", request=request)
    alert = page[: page.index("FAR-2026-000001 is already complete.")]
    assert alert[alert.rindex('<div class="usa-alert usa-alert--') :].startswith(
        f'<div class="usa-alert {look} '
    )
