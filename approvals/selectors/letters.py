"""Letters a user may read: those on a request or an enforcement action the user may read."""

from django.db.models import Q

from approvals.models import Letter
from approvals.selectors.enforcement import actions_visible_to
from approvals.selectors.requests import requests_visible_to


def letters_visible_to(user):
    """Each letter follows its subject: a request's letters whoever reads the request, a notice
    whoever reads the enforcement action (the vendor concerned, the agencies it concerns, auditors)."""
    if not getattr(user, "is_authenticated", False):
        return Letter.objects.none()
    return Letter.objects.select_related("vendor", "access_request", "signed_by").filter(
        Q(access_request__in=requests_visible_to(user).values("pk"))
        | Q(enforcement_action__in=actions_visible_to(user).values("pk"))
    )


def letters_of_request(user, access_request):
    """The letters on one request, oldest first (an intent to deny before the decision)."""
    return list(letters_visible_to(user).filter(access_request=access_request).order_by("issued_at", "pk"))
