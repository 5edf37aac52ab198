"""One view behind every action button of the agency admin.

An action page is declared, not written: an ``ActionPage`` names its URL, how the object is
looked up (through the permissions helper: 404 for what the user may not read), the policy
``can_<verb>`` that gates it, the form and its initial data, the service call and its success
message, the template and its extra context, and where to go back. ``action_view`` does the rest
the same way for every page: it shows the form; on a valid POST it calls the service, turns a
``PortalError`` into form errors (keeping what was typed) or redirects with the message.

The page exists for a person exactly when its button does: when ``can_<verb>`` says no, GET and
POST both answer 404 and the service is not called. (A page opened while the button was shown
and posted after the state moved on — another approver signed first — therefore answers 404
too; the case page, reloaded, shows what changed.)
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from approvals import policies
from portal.accounts.mfa_views import require_recent_second_factor
from portal.admin_site import admin_site
from portal.errors import PortalError


def _nothing(request, obj):
    return {}


@dataclass(frozen=True)
class ActionPage:
    """One action button's page. Its callables get the request and the looked-up object."""

    name: str  # the URL name after the admin's prefix ("assign" → ``admin:<prefix>assign``)
    route: str  # "<int:pk>/assign/": the path under the model admin's URLs
    lookup: Callable  # (model_admin, request, pk) -> the object; Http404 for what the user may not read
    allowed: Callable  # (user, obj) -> bool: the policy's ``can_<verb>``, as the button asks it
    form_class: type
    call: Callable  # (request, obj, form) -> the success message; calls one service
    title: Callable  # (obj) -> the page's title
    back: Callable  # (obj) -> the URL to go back to (after success, and the Cancel link)
    template: str
    initial: Callable = field(default=_nothing)  # (request, obj) -> the form's initial data
    form_kwargs: Callable = field(default=_nothing)  # (request, obj) -> more form arguments
    context: Callable = field(default=_nothing)  # (request, obj) -> more template context


# Verbs that sign, decide or enforce: the second factor is asked again first (issue 13) when the
# session passed it more than PORTAL_MFA_REAUTH_SECONDS ago.
SENSITIVE_VERBS = frozenset(
    {
        "sign",
        "decide",
        "resolve",
        "finalise",
        "suspend",
        "lift",
        "clear_preview",
        "clear_ga",
        "decline",
        "revoke",
        "designate",
        "rescind",
    }
)


def action_view(request, pk, *, page, model_admin):
    """Show ``page``'s form; on a valid POST call its service and go back with its message."""
    obj = page.lookup(model_admin, request, pk)
    with policies.one_page(request.user, readable=[obj]):  # the lookup has just checked it
        allowed = page.allowed(request.user, obj)
    if not allowed:
        raise Http404("No such page.")
    if page.name in SENSITIVE_VERBS and (again := require_recent_second_factor(request)) is not None:
        return again
    data = request.POST if request.method == "POST" else None
    form = page.form_class(data, initial=page.initial(request, obj), **page.form_kwargs(request, obj))
    back = page.back(obj)
    if form.is_bound and form.is_valid():
        try:
            message = page.call(request, obj, form)
        except PortalError as error:
            error.add_to_form(form)
        else:
            messages.success(request, message)
            return redirect(back)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": page.title(obj),
        "form": form,
        "back": back,
        **page.context(request, obj),
    }
    return TemplateResponse(request, page.template, context)


def action_urls(model_admin, prefix, pages):
    """The URL patterns of ``pages`` under ``model_admin``, named ``prefix + page.name``."""
    return [
        path(
            page.route,
            admin_site.admin_view(partial(action_view, page=page, model_admin=model_admin)),
            name=prefix + page.name,
        )
        for page in pages
    ]
