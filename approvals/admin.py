from django.contrib import admin

from approvals.models import AccessRequest
from portal.admin import PortalModelAdmin
from portal.admin_site import admin_site


@admin.register(AccessRequest, site=admin_site)
class AccessRequestAdmin(PortalModelAdmin):
    pass
