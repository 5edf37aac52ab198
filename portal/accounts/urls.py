from django.contrib.auth import views as auth_views
from django.urls import path

from portal.accounts import mfa_views, views

app_name = "accounts"

urlpatterns = [
    path("second-factor/", mfa_views.verify, name="mfa_verify"),
    path("second-factor/set-up/", mfa_views.enrol, name="mfa_enrol"),
    path("second-factor/recovery-codes/", mfa_views.recovery_codes, name="mfa_recovery_codes"),
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
