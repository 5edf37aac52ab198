"""Who is who, and the guards every rule is made of: the vendor's compliance team, an agency's
officials, the lead agency's approvers; ``can_`` from ``require_``.
"""

from contextlib import contextmanager

from approvals.models import (
    AccessRequest,
    Agency,
    Referral,
)
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Role
from portal.errors import PortalError
from vendors.models import FrontierModel

_UNSET = object()


Status = AccessRequest.Status


VENDOR_ACTOR_ROLES = frozenset({Role.VENDOR_ADMIN, Role.VENDOR_OFFICER})


REVIEW_ROLES = frozenset({Role.AGENCY_REVIEWER, Role.AGENCY_APPROVER})


ASSIGNER_ROLES = frozenset({Role.AGENCY_APPROVER, Role.AGENCY_ADMIN})


APPROVER_ROLES = frozenset({Role.AGENCY_APPROVER})


UNDER_REVIEW = (Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED)


ACTIVE_REFERRAL_STATUSES = (Referral.Status.OPEN, Referral.Status.DRAFTED)


def agency_of(user):
    """The agency ``user`` works for, or ``None`` for anyone who is not an agency official."""
    if user is None or not user.is_authenticated or user.role not in AGENCY_ROLES:
        return None
    cache = getattr(user, "_portal_agency", _UNSET)
    if cache is _UNSET:
        cache = Agency.objects.filter(organisation_id=user.organisation_id).first()
        user._portal_agency = cache
    return cache


def may_enforce(user):
    """Approvers of the lead agency take enforcement actions and clearance decisions."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    agency = agency_of(user)
    return agency is not None and agency.is_lead and user.role == Role.AGENCY_APPROVER


def may_record_findings(user):
    """Reviewers and approvers of any agency record findings in a pre-release review."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return agency_of(user) is not None and user.role in REVIEW_ROLES


def may_report(user, vendor):
    """Whether ``user`` is on ``vendor``'s compliance team (an officer or admin). Kept for callers
    outside the pages (the API); every button and page asks the verb's ``can_<verb>`` instead."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.organisation_id == vendor.organisation_id
        and user.role in VENDOR_ACTOR_ROLES
    )


def vendor_visible_to(user, vendor):
    """An agency knows a vendor through the models it may read (the vendor row is never shared)."""
    if getattr(user, "sees_everything", False):
        return True
    return permissions.visible_to(user, FrontierModel.objects.filter(vendor=vendor)).exists()


def _refuse(message, **kwargs):
    raise PortalError(message, **kwargs)


def _asks(require, doing):
    """``can_<verb>``: the same rule as ``require_<verb>``, answered yes or no."""
    verb = require.__name__.removeprefix("require_")

    def can(user, obj):
        if user is None or not user.is_authenticated:
            return False
        try:
            require(user, obj)
        except PortalError:
            return False
        return True

    can.require = require  # the refusal's words, for a page posted after its button went away
    can.__name__ = f"can_{verb}"
    can.__doc__ = f"May ``user`` {doing} on ``obj`` now? (``require_{verb}``'s rule.)"
    return can


def require_vendor_actor(actor, *, vendor, obj=None, action="change"):
    """Compliance officers and admins of ``vendor`` (with ``action`` on ``obj``); viewers may not act."""
    if not (actor.is_active and actor.organisation_id == vendor.organisation_id):
        _refuse("Only the vendor's compliance team can do this.")
    if actor.role not in VENDOR_ACTOR_ROLES:
        _refuse("Viewers can follow the record but not act on it. Ask a compliance officer or admin.")
    if obj is not None and not permissions.has_object_permission(actor, obj, action):
        _refuse("You may not act on this record.")


def require_official(actor, agency, *, roles, doing, obj=None):
    """An official of ``agency`` holding one of ``roles`` (and ``view`` on ``obj``)."""
    if not actor.is_active or agency_of(actor) != agency or actor.role not in roles:
        names = " or ".join(sorted(Role(r).label.lower() + "s" for r in roles))
        _refuse(f"Only {names} of {agency.code} can {doing}.")
    if obj is not None and not _may_read(actor, obj):
        _refuse(f"You may not {doing} on this case.")


@contextmanager
def one_page(user, *, readable=(), open_reviews=None, suspensions=None):
    """While one page asks several ``can_<verb>`` of the same objects, each object's permission and
    each model's open review is read from the database once. ``readable``: objects the page has just
    looked up through the permissions helper; ``open_reviews``: ``{model pk: review or None}`` the
    page has just read; ``suspensions``: ``{model pk: suspension in force or None}`` likewise. Only
    around the buttons of a page, never around a service."""
    outer = getattr(user, "_portal_memo", None)
    memo = dict(outer or {})
    memo.update({("read", type(obj), obj.pk): True for obj in readable})
    memo.update({("open_review", pk): review for pk, review in (open_reviews or {}).items()})
    memo.update({("suspension", pk): suspension for pk, suspension in (suspensions or {}).items()})
    user._portal_memo = memo
    try:
        yield
    finally:
        user._portal_memo = outer


def _once(user, key, ask):
    memo = getattr(user, "_portal_memo", None)
    if memo is None:
        return ask()
    if key not in memo:
        memo[key] = ask()
    return memo[key]


def _may_read(user, obj):
    return _once(
        user, ("read", type(obj), obj.pk), lambda: permissions.has_object_permission(user, obj, "view")
    )


def require_lead_approver(actor, doing, obj=None, *, vendor=None):
    """An approver of the lead agency (who may read ``obj`` and knows ``vendor``); their agency."""
    if not may_enforce(actor):
        _refuse(f"Only an approver of the lead agency can {doing}.")
    if obj is not None and not _may_read(actor, obj):
        what = "case" if isinstance(obj, AccessRequest) else "record"  # a model or a grant: a record
        _refuse(f"You may not {doing} on this {what}.")
    if vendor is not None and not _once(
        actor, ("knows", vendor.pk), lambda: vendor_visible_to(actor, vendor)
    ):
        _refuse(f"You may not {doing}: none of this vendor's models is known to your agency.")
    return agency_of(actor)
