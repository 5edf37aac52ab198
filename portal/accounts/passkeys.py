"""Passkeys (WebAuthn) as a second factor beside the authenticator app (issue 13).

django-otp-webauthn is a django-otp device plugin: a passkey is one more ``Device`` of the
person, so ``is_verified()``, the session's device, the middleware that holds a session back
until the second factor and the lost-device reset treat it as they treat the app. Its ceremony
views are used as they are, with the portal's rules added here:

- a passkey is a second factor only: the password comes first (passwordless sign-in is off, so
  the lockout on the password still counts every attempt);
- the relying party is the host the portal is served at (``PORTAL_WEBAUTHN_RP_ID`` to fix it, e.g.
  to the parent domain), and the accepted origins are the configured ones plus the portal's own;
  the browser refuses a passkey on any other site, which is what makes it phishing-resistant;
- adding a passkey when the person already has a second factor needs it to have been passed
  recently (as the sensitive verbs do); the first one, at first sign-in, counts as setting up the
  second factor: recovery codes are made and shown once, and the session is verified;
- adding and removing a passkey are history rows of the person.
"""

import json

from django.conf import settings
from django.db import transaction
from django.middleware.csrf import get_token
from django.urls import reverse
from django_otp_webauthn import exceptions
from django_otp_webauthn.helpers import WebAuthnHelper
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from portal.accounts import mfa
from portal.accounts.models import User
from portal.audit.history import save_with_history
from portal.errors import PortalError

PASSKEY_NAME = "Passkey"


def rp_id(request):
    """The relying party id: ``PORTAL_WEBAUTHN_RP_ID`` or the host the page was served from
    (already checked against ``ALLOWED_HOSTS``), without its port."""
    configured = getattr(settings, "PORTAL_WEBAUTHN_RP_ID", "")
    return configured or request.get_host().rsplit(":", 1)[0].strip("[]")


def passkeys_of(user):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("created_at", "pk")


class PortalWebAuthnHelper(WebAuthnHelper):
    """The library's helper with the portal's origin and the person's own name on the passkey."""

    def get_allowed_origins(self):
        own = f"{self.request.scheme}://{self.request.get_host()}"
        return [*super().get_allowed_origins(), own]

    def get_credential_display_name(self, user):
        return user.full_name or user.email


class _FreshSecondFactor(exceptions.OTPWebAuthnApiError):
    status_code = 403
    code = "second_factor_not_recent"
    default_detail = "Enter your second factor again before adding a passkey (reload the page)."


class _RegistrationRules:
    def check_can_register(self):
        if mfa.has_second_factor(self.request.user) and not mfa.recently_verified(self.request):
            raise _FreshSecondFactor()


class BeginRegistration(_RegistrationRules, BeginCredentialRegistrationView):
    pass


class CompleteRegistration(_RegistrationRules, CompleteCredentialRegistrationView):
    """Saves the passkey (the library), then the portal's part: history, and at first set-up the
    recovery codes and a verified session."""

    def post(self, *args, **kwargs):
        first = not mfa.has_second_factor(self.request.user)
        response = super().post(*args, **kwargs)
        if response.status_code == 200:
            device = WebAuthnCredential.objects.get(
                user=self.request.user, pk=json.loads(response.content)["id"]
            )
            passkey_added(self.request, device=device, first=first)
        return response


class BeginAuthentication(BeginCredentialAuthenticationView):
    pass


class CompleteAuthentication(CompleteCredentialAuthenticationView):
    """The passkey is checked by the library against the signed-in person's own passkeys; the
    session is then verified as a code would verify it (and fresh for the sensitive verbs)."""

    def complete_auth(self, device):
        if not self.request.user.is_authenticated:  # passwordless sign-in is off; defence in depth
            raise exceptions.PasswordlessLoginDisabled()
        mfa.mark_verified(self.request, device)

    def get_success_url(self):
        return self.get_redirect_url() or self.request.user.home_url()


@transaction.atomic
def passkey_added(request, *, device, first):
    user = request.user
    count = passkeys_of(user).count()
    device.name = f"{PASSKEY_NAME} {count}"
    device.save(update_fields=["name"])
    if first:
        request.session[mfa.FRESH_CODES_SESSION_KEY] = mfa.replace_recovery_codes(user)
        mfa.mark_verified(request, device)
    person = User.objects.get(pk=user.pk)
    what = "Second factor set up (passkey)" if first else f"{device.name} added as a second factor"
    save_with_history(person, actor=user, reason=f"{what}.")
    return device


@transaction.atomic
def remove_passkey(*, user, passkey_id):
    """The person removes one of their own passkeys (a lost or replaced key). Not the last second
    factor of someone who must have one: they add another first."""
    device = WebAuthnCredential.objects.select_for_update().filter(user=user, pk=passkey_id).first()
    if device is None:
        raise PortalError("No such passkey.")
    others = passkeys_of(user).exclude(pk=device.pk).exists() or mfa.confirmed_app(user) is not None
    if mfa.mfa_required(user) and not others:
        raise PortalError(
            "This is your only second factor: add an authenticator app or another passkey before removing it."
        )
    name = device.name
    device.delete()
    save_with_history(User.objects.get(pk=user.pk), actor=user, reason=f"{name} removed as a second factor.")
    return name


def script_config(request):
    """What django-otp-webauthn's scripts read from the page (``otp_webauthn_config``, a JSON data
    block, not a script): where the ceremonies are and the CSRF token."""
    return {
        "autocompleteLoginFieldSelector": None,
        "nextFieldSelector": "input[name='next']",
        "csrfToken": get_token(request),
        "beginAuthenticationUrl": reverse("accounts:passkey_authenticate_begin"),
        "completeAuthenticationUrl": reverse("accounts:passkey_authenticate_complete"),
        "beginRegistrationUrl": reverse("accounts:passkey_register_begin"),
        "completeRegistrationUrl": reverse("accounts:passkey_register_complete"),
    }
