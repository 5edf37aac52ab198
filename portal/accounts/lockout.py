"""Sign-in lockout by django-axes (issue 13), replacing the hand-written Redis throttle.

Failures are counted in the database (axes' ``AccessAttempt``), so the lockout holds when Redis
is down. An account is locked after ``AXES_FAILURE_LIMIT`` failures for ``AXES_COOLOFF_TIME``,
whatever address they came from; unknown addresses lock the same way, so nothing is revealed.
The client's network address is read as the configured number of trusted proxies says
(``PORTAL_TRUSTED_PROXIES``): made-up ``X-Forwarded-For`` entries in front of what our own proxies
appended are ignored, so an attacker cannot pin failures on other people, and locking by address
(``PORTAL_LOCKOUT_BY_IP``, off by default) never locks out everyone behind the proxy.
A portal administrator lifts a lock (with history); a completed password reset lifts it too.
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.utils import reset
from django.conf import settings
from django.db import transaction
from django.shortcuts import render

from portal.accounts.models import Role, SignInEvent, User
from portal.audit.history import save_with_history
from portal.errors import PortalError

LOCKED_MESSAGE = (
    "Too many failed sign-ins: sign-in with this address is paused for 15 minutes. Wait and try "
    "again then, or set a new password with “Forgot your password?” (a completed reset lifts the pause)."
)


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, first of the authentication backends. A sign-in without a request (the test
    client's ``login()``, a shell) has no client to lock out: it is passed on, not refused."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _valid(address):
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The client's address: ``REMOTE_ADDR`` when no proxy is trusted; behind N trusted proxies,
    the address the outermost of them saw (the Nth entry from the right of X-Forwarded-For)."""
    remote = request.META.get("REMOTE_ADDR") or ""
    trusted = getattr(settings, "PORTAL_TRUSTED_PROXIES", 0)
    if trusted <= 0:
        return _valid(remote)
    chain = [a for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    # chain + [REMOTE_ADDR]: the last ``trusted`` hops are our own proxies.
    hops = [*chain, remote]
    if len(hops) <= trusted:
        return _valid(hops[0])
    return _valid(hops[-(trusted + 1)])


def lockout_response(request, original_response=None, credentials=None):
    """The sign-in page again, with the pause explained (HTTP 429); the refusal is recorded."""
    from portal.accounts.forms import EmailAuthenticationForm

    email = ((credentials or {}).get("username") or request.POST.get("username") or "").strip().lower()
    SignInEvent.objects.create(
        email=email[:254],
        outcome=SignInEvent.Outcome.LOCKED_OUT,
        ip_address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )
    form = EmailAuthenticationForm(request, initial={"username": email})
    form.cleaned_data = {}
    form.add_error(None, LOCKED_MESSAGE)
    return render(
        request, "accounts/login.html", {"form": form, "next": request.POST.get("next", "")}, status=429
    )


def lift_for(email):
    """Forget the failures of ``email`` (the lock goes with them). Returns how many were kept."""
    return reset(username=(email or "").strip().lower())


@transaction.atomic
def unlock_sign_in(*, user, actor, reason):
    """A portal administrator lifts a person's sign-in lockout; a history row says who and why."""
    if actor.role != Role.PORTAL_ADMIN or not actor.is_active:
        raise PortalError("Only a portal administrator lifts a sign-in lockout.")
    reason = " ".join((reason or "").split())
    if not reason:
        raise PortalError("Say why (for example how the person proved who they are).", field="reason")
    user = User.objects.select_for_update().get(pk=user.pk)
    if not lift_for(user.email):
        raise PortalError(f"Sign-in for {user.email} is not paused.")
    return save_with_history(user, actor=actor, reason=f"Sign-in lockout lifted by {actor.email}: {reason}")


def is_locked(email):
    """Is sign-in for ``email`` paused now (failures within the cool-off reached the limit)?"""
    from axes.models import AccessAttempt
    from django.db.models import Sum
    from django.utils import timezone

    since = timezone.now() - settings.AXES_COOLOFF_TIME
    failures = AccessAttempt.objects.filter(username=(email or "").strip().lower(), attempt_time__gte=since)
    return (failures.aggregate(n=Sum("failures_since_start"))["n"] or 0) >= settings.AXES_FAILURE_LIMIT
