"""Admin conventions shared by every app: scoped querysets, auditors read-only, history shown."""

from simple_history.admin import SimpleHistoryAdmin

from portal import permissions


class PortalModelAdmin(SimpleHistoryAdmin):
    """Rows come through the permissions helper; auditors see everything and change nothing.

    Domain changes happen through services (buttons that open forms), so the stock add,
    change and delete permissions stay with portal administrators for reference data only.
    """

    editable_by_portal_admin = False

    def get_queryset(self, request):
        return permissions.visible_to(request.user, super().get_queryset(request))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        if obj is None:
            return True
        return permissions.has_object_permission(request.user, obj, "view")

    def _portal_admin_may_edit(self, request):
        return self.editable_by_portal_admin and request.user.is_portal_admin

    def has_add_permission(self, request):
        return self._portal_admin_may_edit(request)

    def has_change_permission(self, request, obj=None):
        return self._portal_admin_may_edit(request)

    def has_delete_permission(self, request, obj=None):
        return False
