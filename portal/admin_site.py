"""The agency dashboard: a Django admin site branded for the portal.

Only agency officials, auditors and portal administrators may open it; vendors never do.
Sign-in goes through the portal's one sign-in page.

Its home page shows panels contributed by the apps (``ADMIN_DASHBOARD_PANELS``: dotted paths
to callables taking the request and returning ``{"template", "context"}`` or ``None``), so
that ``portal`` never imports the apps that fill it. It also serves the audit export.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.module_loading import import_string

from portal.accounts.models import STAFF_ROLES


def dashboard_panels(request):
    """The panels every app contributes for the signed-in official, in settings order."""
    panels = []
    for dotted in getattr(settings, "ADMIN_DASHBOARD_PANELS", []):
        panel = import_string(dotted)(request)
        if panel:
            panels.append(panel)
    return panels


class PortalAdminSite(admin.AdminSite):
    site_header = "Frontier Access Portal — agency dashboard"
    site_title = "Frontier Access Portal"
    index_title = "Dashboard"
    index_template = "admin/portal_index.html"
    enable_nav_sidebar = True
    site_url = None  # officials have no other side of the portal to go to

    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_staff and user.role in STAFF_ROLES)

    def login(self, request, extra_context=None):
        index = reverse("admin:index", current_app=self.name)
        target = request.GET.get("next") or index
        if request.user.is_authenticated:
            # A vendor who types /admin/ is taken to the vendor pages; any deeper address of
            # the dashboard does not exist for them (404, naming nothing).
            if target == index and getattr(request.user, "is_vendor_member", False):
                return redirect(request.user.home_url())
            raise Http404("No such page.")
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")

    def index(self, request, extra_context=None):
        context = {"dashboard_panels": dashboard_panels(request), **(extra_context or {})}
        return super().index(request, extra_context=context)

    def get_urls(self):
        from portal.audit.views import audit_export

        return [
            path("audit-export/", self.admin_view(audit_export), name="audit_export"),
            *super().get_urls(),
        ]


admin_site = PortalAdminSite(name="admin")
