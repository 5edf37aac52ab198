"""The agency dashboard: a Django admin site branded for the portal.

Only agency officials, auditors and portal administrators may open it; vendors never do.
Sign-in goes through the portal's one sign-in page.
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from portal.accounts.models import STAFF_ROLES


class PortalAdminSite(admin.AdminSite):
    site_header = "Frontier Access Portal — agency dashboard"
    site_title = "Frontier Access Portal"
    index_title = "Dashboard"
    enable_nav_sidebar = True
    site_url = None  # officials have no other side of the portal to go to

    def has_permission(self, request):
        user = request.user
        return bool(user.is_active and user.is_authenticated and user.is_staff and user.role in STAFF_ROLES)

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Signed in, but not an official: the dashboard does not exist for them.
            raise Http404("No such page.")
        target = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")


admin_site = PortalAdminSite(name="admin")
