"""The signed-in person's notifications: list, mark read, delivery preference. Thin views."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from portal.errors import PortalError
from portal.notifications import selectors, services
from portal.notifications.forms import PreferenceForm

PAGE_SIZE = 25


def _render(request, name, context, title):
    """The vendor's look (USWDS) for vendor members; the agency dashboard's (the admin's) for
    officials, auditors and administrators, who work in the admin and should not be switched."""
    if request.user.is_vendor_member:
        return render(request, f"notifications/{name}.html", context)
    from portal.admin_site import admin_site

    admin_context = {**admin_site.each_context(request), "title": title, **context}
    return render(request, f"admin/notifications/{name}.html", admin_context)


@login_required
def notification_list(request):
    page = Paginator(selectors.notifications_for(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    delivery = selectors.delivery_preference(request.user)
    context = {"page": page, "notifications": page.object_list, "delivery": delivery}
    return _render(request, "list", context, "Notifications")


@login_required
@require_POST
def mark_read(request, pk):
    """Mark one read; with ``open`` in the form, go on to the page the notification is about."""
    notification = get_object_or_404(selectors.notifications_for(request.user), pk=pk)
    services.mark_read(notification=notification, actor=request.user)
    if "open" in request.POST and notification.link and _safe(request, notification.link):
        return redirect(notification.link)
    return redirect(_back(request))


@login_required
@require_POST
def mark_all_read(request):
    count = services.mark_all_read(actor=request.user)
    if count:
        messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect(_back(request))


@login_required
def preferences(request):
    current = selectors.delivery_preference(request.user)
    form = PreferenceForm(
        request.POST or None,
        initial={"delivery": current, "record_version": selectors.preference_version(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.set_delivery_preference(
                user=request.user,
                actor=request.user,
                delivery=form.cleaned_data["delivery"],
                expected_version=form.cleaned_data["record_version"],
            )
        except PortalError as err:
            err.add_to_form(form)
            if getattr(err, "stale", False):
                data = form.data.copy()
                data["record_version"] = selectors.preference_version(request.user)
                form.data = data
        else:
            messages.success(request, "Your notification settings are saved.")
            return redirect("notifications:preferences")
    return _render(request, "preferences", {"form": form, "current": current}, "E-mail settings")


def _safe(request, url):
    return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=False)


def _back(request):
    target = request.POST.get("next") or "/notifications/"
    return target if target.startswith("/notifications/") and _safe(request, target) else "/notifications/"
