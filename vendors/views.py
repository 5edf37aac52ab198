"""Vendor-facing pages. Every page is for members of a vendor only; anyone else gets 404."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render


def vendor_member_required(view):
    """Signed-in vendor members only; agency officials and others get 404, not 403."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_vendor_member:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


@vendor_member_required
def dashboard(request):
    return render(request, "vendors/dashboard.html", {"organisation": request.user.organisation})
