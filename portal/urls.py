from django.urls import include, path

from portal.admin_site import admin_site
from portal.health import healthz, healthz_details, readiness
from portal.observability.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("healthz/ready", readiness, name="readiness"),
    path("healthz/details", healthz_details, name="healthz_details"),
    path("metrics", metrics_view, name="metrics"),
    path("accounts/", include("portal.accounts.urls")),
    path("admin/", admin_site.urls),
    path("notifications/", include("portal.notifications.urls")),
    path("jobs/", include("portal.jobs.urls")),
    path("vendor/requests/", include("approvals.vendor_pages.urls")),
    path("vendor/", include("approvals.vendor_pages.enforcement_urls")),
    path("vendor/api/", include("api.pages.urls")),
    path("api/", include("api.urls")),
    path("vendor/", include("vendors.urls")),
    path("", include("portal.accounts.root_urls")),
]

handler400 = "portal.error_pages.bad_request"
handler403 = "portal.error_pages.permission_denied"
handler404 = "portal.error_pages.page_not_found"
handler500 = "portal.error_pages.server_error"
