from django.contrib.auth import views as auth_views
from django.urls import path

from portal.accounts import mfa_views, passkeys, security_views, views

app_name = "accounts"

urlpatterns = [
    path("second-factor/", mfa_views.verify, name="mfa_verify"),
    path("second-factor/set-up/", mfa_views.enrol, name="mfa_enrol"),
    path("second-factor/recovery-codes/", mfa_views.recovery_codes, name="mfa_recovery_codes"),
    path("security/", security_views.security, name="security"),
    path("security/passkeys/<int:pk>/remove/", security_views.remove_passkey, name="remove_passkey"),
    path("security/recovery-codes/", security_views.new_recovery_codes, name="new_recovery_codes"),
    # WebAuthn ceremonies (django-otp-webauthn's views with the portal's rules; JSON, same origin)
    path("passkeys/registration/begin/", passkeys.BeginRegistration.as_view(), name="passkey_register_begin"),
    path(
        "passkeys/registration/complete/",
        passkeys.CompleteRegistration.as_view(),
        name="passkey_register_complete",
    ),
    path(
        "passkeys/authentication/begin/",
        passkeys.BeginAuthentication.as_view(),
        name="passkey_authenticate_begin",
    ),
    path(
        "passkeys/authentication/complete/",
        passkeys.CompleteAuthentication.as_view(),
        name="passkey_authenticate_complete",
    ),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/", views.home, name="home"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]
