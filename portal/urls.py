from django.urls import include, path

from portal.admin_site import admin_site
from portal.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("portal.accounts.urls")),
    path("admin/", admin_site.urls),
    path("notifications/", include("portal.notifications.urls")),
    path("vendor/requests/", include("approvals.vendor_pages.urls")),
    path("vendor/", include("approvals.vendor_pages.enforcement_urls")),
    path("vendor/", include("vendors.urls")),
    path("", include("portal.accounts.root_urls")),
]
