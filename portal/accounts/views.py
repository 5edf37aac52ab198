"""Sign-in, sign-out, password reset and the after-sign-in landing."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from portal.accounts.forms import EmailAuthenticationForm, PortalPasswordResetForm
from portal.accounts.lockout import client_ip, lift_for
from portal.accounts.models import SignInEvent


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_success_url(self):
        target = self.get_redirect_url()
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return self.request.user.home_url()


@login_required
def home(request):
    """Send a signed-in user to their side of the portal."""
    return redirect(request.user.home_url())


class PasswordResetView(auth_views.PasswordResetView):
    """Rate-limited per account and per client address (issue 13). Every request is recorded and
    answered with the same "check your e-mail" page, sent or not, so nothing reveals whether an
    account exists or that a limit was reached."""

    template_name = "accounts/password_reset_form.html"
    form_class = PortalPasswordResetForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        address = client_ip(self.request)
        hour_ago = timezone.now() - timedelta(hours=1)
        recent = SignInEvent.objects.filter(outcome=SignInEvent.Outcome.RESET_REQUESTED, at__gte=hour_ago)
        too_many = recent.filter(email=email).count() >= settings.PORTAL_PASSWORD_RESETS_PER_ACCOUNT or (
            address
            and recent.filter(ip_address=address).count() >= settings.PORTAL_PASSWORD_RESETS_PER_ADDRESS
        )
        SignInEvent.objects.create(
            email=email[:254],
            outcome=SignInEvent.Outcome.RESET_REQUESTED,
            ip_address=address,
            user_agent=self.request.META.get("HTTP_USER_AGENT", "")[:300],
        )
        if too_many:
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A completed reset proves control of the mailbox: it also lifts the sign-in lockout."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        lift_for(form.user.email)
        return response
