"""Sign-in and password forms keyed on the e-mail address."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from portal.accounts import policies
from portal.accounts.models import Organisation, Role, User
from portal.errors import PortalError


class EmailAuthenticationForm(AuthenticationForm):
    """One message for a wrong password, an unknown address or a deactivated account,
    so the form never tells an attacker which addresses have accounts."""

    username = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True, "class": "usa-input"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "usa-input"}),
    )
    error_messages = {
        "invalid_login": "That e-mail address and password do not match an active account. "
        "Check both and try again, or reset your password.",
        "inactive": "That e-mail address and password do not match an active account. "
        "Check both and try again, or reset your password.",
    }

    def clean_username(self):
        return self.cleaned_data["username"].strip().lower()


class PortalPasswordResetForm(PasswordResetForm):
    """Sends the reset link through the notification outbox. The link is built on
    ``PORTAL_BASE_URL``, never on the request's Host header (no reset-link poisoning)."""

    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "class": "usa-input"}),
    )

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        from portal.notifications.services import notify

        user, uid, token = context["user"], context["uid"], context["token"]
        notify(
            event="password_reset",
            recipients=[user],
            subject="Set a new password",
            link=reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token}),
            key=f"{uid}:{token}",
        )


class AccountInvitationForm(forms.ModelForm):
    """The portal administrator's form for inviting a person in the admin (issue 13).

    It offers only what a portal administrator may give: an operator or auditor account, or the
    first administrator of an agency that has none. The invited person sets a password through
    the e-mailed link. The service asks the same rule again, so a forged POST is refused."""

    reason = forms.CharField(max_length=500, help_text="Why this account is needed (kept in its history).")

    class Meta:
        model = User
        fields = ["email", "full_name", "organisation", "role"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        first_admin = Organisation.objects.filter(kind=Organisation.Kind.AGENCY).exclude(
            Exists(User.objects.filter(organisation=OuterRef("pk"), role=Role.AGENCY_ADMIN, is_active=True))
        )
        self.fields["organisation"].queryset = Organisation.objects.filter(
            Q(kind__in=list(policies.OPERATOR_ROLES_BY_KIND)) | Q(pk__in=first_admin.values("pk"))
        )
        self.fields["role"].choices = [("", "---------")] + [
            (role.value, role.label) for role in (Role.PORTAL_ADMIN, Role.AUDITOR, Role.AGENCY_ADMIN)
        ]
        self.fields["role"].help_text = (
            "Portal administrators and auditors, or an agency's first administrator. Who reviews "
            "or approves for an agency is decided by its own administrators."
        )

    def clean(self):
        cleaned = super().clean()
        organisation, role = cleaned.get("organisation"), cleaned.get("role")
        if organisation and role and self.request is not None:
            try:
                policies.require_grant_role(self.request.user, organisation, role)
            except PortalError as error:
                error.add_to_form(self)
        return cleaned
