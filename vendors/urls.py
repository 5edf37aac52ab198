from django.urls import path

from vendors import views
from vendors.onboarding import views as onboarding_views

app_name = "vendors"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("models/", views.model_list, name="model_list"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/<int:pk>/", views.model_detail, name="model_detail"),
    path("models/<int:pk>/edit/", views.model_edit, name="model_edit"),
    path("models/<int:pk>/withdraw/", views.model_withdraw, name="model_withdraw"),
    path("models/<int:pk>/evidence/new/", views.model_evidence_new, name="model_evidence_new"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/new/", views.customer_create, name="customer_create"),
    path("customers/search/", views.customer_search, name="customer_search"),
    path("customers/export/", views.customer_export, name="customer_export"),
    path("customers/import/", views.customer_import, name="customer_import"),
    path("customers/import/template/", views.customer_import_template, name="customer_import_template"),
    path("customers/import/<int:pk>/", views.customer_import_preview, name="customer_import_preview"),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/evidence/new/", views.customer_evidence_new, name="customer_evidence_new"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence_download"),
    path("evidence/<int:pk>/replace/", views.evidence_replace, name="evidence_replace"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence_remove"),
    path("team/", views.team, name="team"),
    path("team/invite/", views.team_invite, name="team_invite"),
    path("team/<int:pk>/", views.team_member, name="team_member"),
    path("profile/", views.profile, name="profile"),
    path("profile/edit/", views.profile_edit, name="profile_edit"),
    path("apply/", onboarding_views.apply, name="apply"),
    path("apply/sent/", onboarding_views.apply_sent, name="apply_sent"),
    path("profile/security-notices/", views.profile_notices, name="profile_notices"),
]
