"""The second factor (issue 13): who needs one, enrolment, recovery codes, re-authentication
and the lost-device reset.

Stack: django-otp with its TOTP and static-token plugins. TOTP (RFC 6238) works with every
authenticator app officials and vendors already carry, needs no JavaScript, no HTTPS-only
browser API and no third-party service, and django-otp is the long-maintained Django library
for it (throttling of wrong codes, replay protection, drift). Static recovery codes are its
sibling plugin: the way back in when the phone is lost, shown once (kept hashed). Passkeys
(WebAuthn, phishing-resistant) come from django-otp-webauthn, another django-otp device plugin,
so they are one more kind of device here: ``portal/accounts/passkeys.py``.

``PORTAL_REQUIRE_MFA`` (on by default; the unit tests switch it off, the browser journeys on)
makes a second factor required for every agency, oversight and operator account and for
vendor compliance admins and officers; vendor viewers may add one but need not.
"""

import secrets
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts.models import AGENCY_ROLES, Role, User
from portal.audit.history import save_with_history
from portal.errors import PortalError

MFA_ROLES = frozenset(
    AGENCY_ROLES | {Role.AUDITOR, Role.PORTAL_ADMIN, Role.VENDOR_ADMIN, Role.VENDOR_OFFICER}
)
RECOVERY_CODES = 10
VERIFIED_AT_SESSION_KEY = "portal_mfa_verified_at"
FRESH_CODES_SESSION_KEY = "portal_mfa_fresh_recovery_codes"
APP_NAME = "Authenticator app"


def mfa_enforced():
    return getattr(settings, "PORTAL_REQUIRE_MFA", True)


def mfa_required(user):
    """Must ``user`` pass a second factor to use the portal?"""
    return bool(mfa_enforced() and user.is_authenticated and user.role in MFA_ROLES)


def second_factor_pending(user):
    """Has ``user`` given the password but not yet passed (or set up) the second factor this
    session requires? Such a session reaches only the sign-in pages, which show nothing of the
    person's portal (``SecondFactorMiddleware``, ``portal.context_processors``)."""
    is_verified = getattr(user, "is_verified", None)  # set by django-otp's middleware
    return bool(mfa_required(user) and not (is_verified and is_verified()))


def confirmed_app(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_second_factor(user):
    """Has ``user`` set up a second factor (an authenticator app or a passkey)? Recovery codes
    alone are not one: they are the way back in, not a way to sign in every day."""
    from django_otp_webauthn.models import WebAuthnCredential

    return (
        confirmed_app(user) is not None
        or WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    )


def reauth_seconds():
    return getattr(settings, "PORTAL_MFA_REAUTH_SECONDS", 15 * 60)


def recently_verified(request):
    """Has this session passed the second factor in the last few minutes (sensitive verbs)?"""
    if not mfa_required(request.user):
        return True
    at = request.session.get(VERIFIED_AT_SESSION_KEY)
    return bool(request.user.is_verified() and at is not None and time.time() - float(at) <= reauth_seconds())


def mark_verified(request, device):
    otp_login(request, device)
    request.session[VERIFIED_AT_SESSION_KEY] = time.time()


# ---------------------------------------------------------------------------------------------
# Enrolment and verification


def pending_app(user):
    """The authenticator being set up (a fresh secret each time enrolment starts over)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)
    return device


@transaction.atomic
def confirm_app(request, *, device, code):
    """The person typed a code from the app they just set up: it becomes their second factor,
    and ten recovery codes are made (shown once, on the next page)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=request.user, confirmed=False)
    if not device.verify_token(_digits(code)):
        raise PortalError("That code does not match. Check the time on your phone and try the newest code.")
    TOTPDevice.objects.filter(user=request.user, confirmed=True).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = replace_recovery_codes(request.user)
    request.session[FRESH_CODES_SESSION_KEY] = codes
    user = User.objects.get(pk=request.user.pk)
    save_with_history(user, actor=request.user, reason="Second factor set up (authenticator app).")
    mark_verified(request, device)
    return device


def replace_recovery_codes(user):
    """Ten new single-use recovery codes; the old ones stop working. Returned once: only their
    digests are kept (``recovery_code_digest``)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = [_grouped(secrets.token_hex(6)) for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(
        StaticToken(device=device, token=recovery_code_digest(code)) for code in codes
    )
    return codes


@transaction.atomic
def make_new_recovery_codes(*, user):
    """The person asks for new recovery codes (the old ones are used up or lost); history says so."""
    codes = replace_recovery_codes(user)
    save_with_history(User.objects.get(pk=user.pk), actor=user, reason="New recovery codes made.")
    return codes


RECOVERY_CODE_SALT = "portal.accounts.mfa.recovery-code"


def recovery_code_digest(code):
    """What is stored of a recovery code: a keyed hash (HMAC-SHA256 under ``SECRET_KEY``), cut to
    the 16 characters django-otp's ``StaticToken.token`` holds (64 bits).

    Someone who reads the database (a backup, a replica, an export) learns nothing they can type:
    the codes themselves are never stored, and without the server's key no guess can be checked
    offline. A slow password hash is not needed for that and would make each attempt cost ten
    slow hashes; the codes have 48 random bits and wrong guesses are throttled by django-otp.
    A stored digest typed in as a code is hashed again and does not match."""
    return salted_hmac(RECOVERY_CODE_SALT, code, algorithm="sha256").hexdigest()[:16]


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def verify(request, *, code):
    """Check a code from the app or a recovery code; the session is verified on success."""
    code = "".join((code or "").split()).lower()
    user = request.user
    app = confirmed_app(user)
    if app is not None and code.isdigit():
        allowed, _ = app.verify_is_allowed()
        if not allowed:
            raise PortalError("Too many wrong codes: wait a minute, then try the newest code.")
        if app.verify_token(code):
            mark_verified(request, app)
            return app
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is not None and not code.isdigit() and _check_recovery_code(recovery, code):
        mark_verified(request, recovery)
        return recovery
    raise PortalError("That code does not match. Try the newest code from your app, or a recovery code.")


def _check_recovery_code(device, code):
    """A recovery code, as typed (any case, spaces or dashes), against the stored digests; a
    match is used up (django-otp deletes the token) and failures are throttled."""
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        raise PortalError("Too many wrong codes: wait a minute, then try again.")
    return device.verify_token(recovery_code_digest(_grouped(code.replace("-", ""))))


def _grouped(code):
    """``3f9a1c07be42`` → ``3f9a-1c07-be42`` (the form recovery codes are shown and kept in)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _digits(code):
    return "".join(ch for ch in (code or "") if ch.isdigit())


def current_code(device, *, unused=True):
    """The code ``device`` shows now (for the demo and the tests). With ``unused``, a code of a
    time step the device has not accepted yet (within its drift), so that signing in twice in
    one half-minute works."""
    now = int(time.time())
    step = (now - device.t0) // device.step
    # This step first, then the later ones the drift allows: an earlier step's code is refused
    # as soon as the clock passes the next step boundary (seen in CI: typed at 29.9 s, checked at 30.1 s).
    later = range(step + 1, step + device.tolerance + 1)
    candidates = [step, *later] if unused else [step]
    for candidate in candidates:
        if unused and candidate <= device.last_t:
            continue
        code = totp(device.bin_key, device.step, device.t0, device.digits, candidate - step)
        return f"{code:0{device.digits}d}"
    raise PortalError("No unused code in this half-minute; wait 30 seconds.")


# ---------------------------------------------------------------------------------------------
# Lost device


@transaction.atomic
def reset_second_factor(*, user, actor, reason):
    """A portal administrator removes a person's authenticator, passkeys and recovery codes (the
    phone or key was lost); they set up a new one at their next sign-in. History and a mail to the person."""
    from portal.notifications.services import notify

    if actor.role != Role.PORTAL_ADMIN or not actor.is_active:
        raise PortalError("Only a portal administrator resets a second factor.")
    if actor.pk == user.pk:
        raise PortalError("Ask another portal administrator to reset your own second factor.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise PortalError("Say why (for example how the person proved who they are).", field="reason")
    from django_otp_webauthn.models import WebAuthnCredential

    user = User.objects.select_for_update().get(pk=user.pk)
    removed = (
        TOTPDevice.objects.filter(user=user).delete()[0]
        + StaticDevice.objects.filter(user=user).delete()[0]
        + WebAuthnCredential.objects.filter(user=user).delete()[0]
    )
    if not removed:
        raise PortalError(f"{user.email} has no second factor to reset.")
    save_with_history(user, actor=actor, reason=f"Second factor reset by {actor.email}: {reason}")
    notify(
        event="second_factor_reset",
        recipients=[user],
        subject="Your second factor was reset",
        context={"actor": actor.full_name or actor.email, "reason": reason},
        link="/accounts/login/",
        key=f"user:{user.pk}:{timezone.now().timestamp():.0f}",
    )
    return user


def session_device_id(request):
    return request.session.get(DEVICE_ID_SESSION_KEY)
