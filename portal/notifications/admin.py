"""The outbox in the agency dashboard: portal administrators see every row and retry failures.

Auditors read it too; nobody edits a row by hand. Retrying goes through
``services.retry_notification``.
"""

from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils.html import format_html

from portal.admin import BoundedListParameters, NotFoundForOutsiders
from portal.admin_site import admin_site
from portal.errors import PortalError
from portal.notifications import services
from portal.notifications.models import ONE_TIME_LINK_EVENTS, WITHHELD_BODY, Notification


@admin.register(Notification, site=admin_site)
class NotificationAdmin(BoundedListParameters, NotFoundForOutsiders, admin.ModelAdmin):
    list_display = [
        "created_at",
        "status",
        "event",
        "recipient",
        "object_label",
        "attempts",
        "short_error",
    ]
    list_filter = ["status", "event"]
    list_select_related = ["recipient"]
    search_fields = ["recipient__email", "idempotency_key", "object_label", "subject"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    actions = ["retry_selected"]
    fieldsets = [
        (None, {"fields": ["recipient", "event", "subject", "object_label", "message_link"]}),
        (
            "Delivery",
            {
                "fields": [
                    "status",
                    "attempts",
                    "last_error",
                    "created_at",
                    "available_at",
                    "claimed_at",
                    "sent_at",
                    "read_at",
                    "immediate",
                    "digest",
                    "retried_by",
                    "retried_at",
                    "idempotency_key",
                ]
            },
        ),
        ("Message", {"fields": ["message_body"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for fieldset in self.fieldsets for f in fieldset[1]["fields"]]

    @admin.display(description="link")
    def message_link(self, obj):
        return WITHHELD_BODY if obj.event in ONE_TIME_LINK_EVENTS and obj.link else obj.link

    @admin.display(description="body")
    def message_body(self, obj):
        if obj.event in ONE_TIME_LINK_EVENTS:
            return WITHHELD_BODY
        return obj.body

    @admin.display(description="last error")
    def short_error(self, obj):
        return (obj.last_error[:60] + "…") if len(obj.last_error) > 60 else obj.last_error

    def _may_read(self, request):
        user = request.user
        return user.is_active and user.is_staff and (user.is_portal_admin or user.is_auditor)

    def has_module_permission(self, request):
        return self._may_read(request)

    def has_view_permission(self, request, obj=None):
        return self._may_read(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.is_portal_admin:
            actions.pop("retry_selected", None)
        return actions

    def changelist_view(self, request, extra_context=None):
        counts = Notification.objects.aggregate(
            failed=Count("pk", filter=Q(status=Notification.Status.FAILED)),
            waiting=Count("pk", filter=Q(status=Notification.Status.PENDING)),
        )
        extra_context = {**(extra_context or {}), "outbox_counts": counts}
        if counts["failed"] and "status__exact" not in request.GET:
            self.message_user(
                request,
                format_html(
                    '{} notification(s) failed. <a href="?status__exact=failed">Show the failed ones</a> '
                    "to read their errors and retry them.",
                    counts["failed"],
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context=extra_context)

    @admin.action(description="Retry the selected failed notifications")
    def retry_selected(self, request, queryset):
        retried, refused = 0, []
        for notification in queryset:
            try:
                services.retry_notification(notification=notification, actor=request.user)
            except PortalError as err:
                refused.append(f"#{notification.pk}: {err.message}")
            else:
                retried += 1
        if retried:
            self.message_user(
                request, f"Queued {retried} notification(s) to be sent again.", messages.SUCCESS
            )
        for message in refused:
            self.message_user(request, message, messages.ERROR)
