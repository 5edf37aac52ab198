"""Sign-in events are recorded as they happen."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal.accounts.lockout import client_ip
from portal.accounts.models import SignInEvent


def _record(request, *, outcome, email, user=None):
    SignInEvent.objects.create(
        user=user,
        email=(email or "")[:254].lower(),
        outcome=outcome,
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )


@receiver(user_logged_in)
def on_signed_in(sender, request, user, **kwargs):
    _record(request, outcome=SignInEvent.Outcome.SIGNED_IN, email=user.email, user=user)


@receiver(user_logged_out)
def on_signed_out(sender, request, user, **kwargs):
    if user is not None:
        _record(request, outcome=SignInEvent.Outcome.SIGNED_OUT, email=user.email, user=user)


@receiver(user_login_failed)
def on_failed(sender, credentials, request=None, **kwargs):
    email = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    _record(request, outcome=SignInEvent.Outcome.FAILED, email=email)
