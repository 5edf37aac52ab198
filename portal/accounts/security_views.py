"""The person's own "Sign-in and security" page (issue 13): their second factors (authenticator
app, passkeys), adding and removing a passkey, and new recovery codes.

Everything on it changes how the account is protected, so it asks for the second factor again
when the session passed it more than ``PORTAL_MFA_REAUTH_SECONDS`` ago, as the sensitive verbs do.
"""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from portal.accounts import mfa, passkeys
from portal.accounts.mfa_views import require_recent_second_factor
from portal.errors import PortalError


@login_required
def security(request):
    if (again := require_recent_second_factor(request)) is not None:
        return again
    user = request.user
    return render(
        request,
        "accounts/security.html",
        {
            "app": mfa.confirmed_app(user),
            "passkeys": list(passkeys.passkeys_of(user)),
            "recovery_codes_left": mfa.recovery_codes_left(user),
            "mfa_required": mfa.mfa_required(user),
            "passkey_config": passkeys.script_config(request),
        },
    )


@login_required
@require_POST
def remove_passkey(request, pk):
    if (again := require_recent_second_factor(request)) is not None:
        return again
    try:
        name = passkeys.remove_passkey(user=request.user, passkey_id=pk)
    except PortalError as error:
        if error.message == "No such passkey.":
            raise Http404(error.message) from None
        messages.error(request, error.message)
    else:
        messages.success(request, f"{name} removed. It no longer signs you in.")
    return redirect("accounts:security")


@login_required
@require_POST
def new_recovery_codes(request):
    if (again := require_recent_second_factor(request)) is not None:
        return again
    if not mfa.has_second_factor(request.user):
        raise Http404("Set up a second factor first.")
    request.session[mfa.FRESH_CODES_SESSION_KEY] = mfa.make_new_recovery_codes(user=request.user)
    query = urlencode({"next": reverse("accounts:security")})
    return redirect(f"{reverse('accounts:mfa_recovery_codes')}?{query}")
