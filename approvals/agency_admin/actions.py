"""One view behind every action button of the agency admin.

An action page is declared, not written: an ``ActionPage`` names its URL, how the object is
looked up (through the permissions helper: 404 for what the user may not read), the policy
``can_<verb>`` that gates it, the form and its initial data, the service call and its success
message, the template and its extra context, and where to go back. ``action_view`` does the rest
the same way for every page: it shows the form; on a valid POST it calls the service, turns a
``PortalError`` into form errors (keeping what was typed) or redirects with the message.

The page exists for a person exactly when its button does: when ``can_<verb>`` says no, GET
answers 404 and the service is never called. A POST then is a form sent from a page opened while
the button was shown, after the state moved on (another approver signed first): to someone who
may read the object it answers 409 with the rule's own refusal (``require_<verb>``'s message),
what they typed and a link back, instead of a bare 404. Nothing is done.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from django.contrib import messages
from django.http import Http404, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path

from approvals import policies
from portal.accounts.mfa_views import require_recent_second_factor
from portal.admin_site import admin_site
from portal.errors import PortalError


def _nothing(request, obj):
    return {}


def _not_stale(request, obj):
    return None


@dataclass(frozen=True)
class ActionPage:
    """One action button's page. Its callables get the request and the looked-up object."""

    name: str  # the URL name after the admin's prefix ("assign" → ``admin:<prefix>assign``)
    route: str  # "<int:pk>/assign/": the path under the model admin's URLs
    lookup: Callable  # (model_admin, request, pk) -> the object; Http404 for what the user may not read
    allowed: Callable  # (user, obj) -> bool: the policy's ``can_<verb>``, as the button asks it
    form_class: type
    # (request, obj, form) -> the success message; calls one service (or, for work done in the
    # background, asks for the job and returns the response that leads to its page)
    call: Callable
    title: Callable  # (obj) -> the page's title
    back: Callable  # (obj) -> the URL to go back to (after success, and the Cancel link)
    template: str
    initial: Callable = field(default=_nothing)  # (request, obj) -> the form's initial data
    form_kwargs: Callable = field(default=_nothing)  # (request, obj) -> more form arguments
    context: Callable = field(default=_nothing)  # (request, obj) -> more template context
    # (request, obj) -> why the order is moot (someone else already did it), or None: a POST that
    # arrives after that is told so in a warning, not as a success nor as an error of the form
    stale: Callable = field(default=_not_stale)


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


def _signs_or_enforces(page, request, obj):
    """Does this page's action sign, decide or enforce? The position page signs too when its
    approver presses "Sign as final": asked before the form is shown to someone who may sign from
    it (so that what they type is not lost to the code prompt), and again for the signing POST."""
    if page.name in SENSITIVE_VERBS:
        return True
    if page.name != "position":
        return False
    if request.method == "POST":
        return "sign" in request.POST
    return bool(page.context(request, obj).get("can_sign_now"))


def action_view(request, pk, *, page, model_admin):
    """Show ``page``'s form; on a valid POST call its service and go back with its message."""
    obj = page.lookup(model_admin, request, pk)
    with policies.one_page(request.user, readable=[obj]):  # the lookup has just checked it
        allowed = page.allowed(request.user, obj)
    if not allowed:
        if request.method != "POST":
            raise Http404("No such page.")
        if (already := page.stale(request, obj)) is not None:
            messages.warning(request, already)
            return redirect(page.back(obj))
        return _moved_on(request, obj, page=page, model_admin=model_admin)
    if (
        _signs_or_enforces(page, request, obj)
        and (again := require_recent_second_factor(request)) is not None
    ):
        return again
    data = request.POST if request.method == "POST" else None
    form = page.form_class(data, initial=page.initial(request, obj), **page.form_kwargs(request, obj))
    back = page.back(obj)
    if form.is_bound and form.is_valid():
        try:
            message = page.call(request, obj, form)
        except PortalError as error:
            # another official's order committed while this one waited for the lock
            if (already := page.stale(request, page.lookup(model_admin, request, pk))) is not None:
                messages.warning(request, already)
                return redirect(back)
            error.add_to_form(form)
        else:
            if isinstance(message, HttpResponseBase):  # work handed to the background: its page
                return message
            level, message = message if isinstance(message, tuple) else (messages.SUCCESS, message)
            messages.add_message(request, level, message)
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


MOVED_ON = "This can no longer be done: the record has changed since the page was opened."


def _refusal(page, user, obj):
    """Why ``page``'s action is refused now, in the rule's words."""
    require = getattr(page.allowed, "require", None)
    if require is not None:
        try:
            require(user, obj)
        except PortalError as error:
            return error.message
    return MOVED_ON


def _moved_on(request, obj, *, page, model_admin):
    typed = [
        (name, value)
        for name, value in request.POST.items()
        if name != "csrfmiddlewaretoken" and not name.startswith("expected_") and value.strip()
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": page.title(obj),
        "refusal": _refusal(page, request.user, obj),
        "typed": typed,
        "back": page.back(obj),
    }
    return TemplateResponse(request, "admin/approvals/action_moved_on.html", context, status=409)


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
