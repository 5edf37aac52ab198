"""Every change to users and organisations: one function per verb, each in a transaction."""

from datetime import timedelta

from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.accounts import policies
from portal.accounts.models import ROLES_BY_KIND, STAFF_ROLES, Organisation, Role, User
from portal.audit.history import save_with_history
from portal.errors import PortalError
from portal.text import end_sentence

SYSTEM_EMAIL = "system@portal.internal"


def system_user():
    """The account that scheduled jobs act as, so that their history names an actor."""
    user = User.objects.filter(email=SYSTEM_EMAIL).first()
    if user is not None:
        return user
    with transaction.atomic():
        organisation, _ = Organisation.objects.get_or_create(
            kind=Organisation.Kind.OPERATOR, name="Portal operations"
        )
        user, created = User.objects.get_or_create(
            email=SYSTEM_EMAIL,
            defaults={"full_name": "Portal scheduler", "organisation": organisation, "role": Role.SYSTEM},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    return user


def create_organisation(*, name, kind, actor, reason):
    name = " ".join((name or "").split())
    if not name:
        raise PortalError("Give the organisation a name.", field="name")
    if Organisation.objects.filter(name__iexact=name, kind=kind).exists():
        raise PortalError(f"There is already a {kind} called {end_sentence(name)}", field="name")
    with transaction.atomic():
        organisation = Organisation(name=name, kind=kind)
        return save_with_history(organisation, actor=actor, reason=reason)


def create_member(*, organisation, email, full_name, role, actor, reason, password=None):
    """Add a person to ``organisation`` with ``role``. Without a password they cannot sign in
    until they set one through the e-mailed link."""
    email = (email or "").strip().lower()
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise PortalError(
            f"A member of a {organisation.get_kind_display().lower()} cannot be {Role(role).label}.",
            field="role",
        )
    _require_actor(actor)
    policies.require_grant_role(actor, organisation, role)
    if User.objects.filter(email=email).exists():
        raise PortalError(f"{email} already has an account on the portal.", field="email")
    with transaction.atomic():
        user = User(
            email=email,
            full_name=" ".join((full_name or "").split()),
            organisation=organisation,
            role=role,
            is_staff=role in STAFF_ROLES,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        return save_with_history(user, actor=actor, reason=reason)


def change_role(*, user, role, actor, reason):
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if role not in ROLES_BY_KIND[user.organisation.kind]:
            raise PortalError(
                f"{Role(role).label} is not a role in {end_sentence(user.organisation)}", field="role"
            )
        _require_actor(actor)
        policies.require_grant_role(actor, user.organisation, role, person=user)
        user.role = role
        user.is_staff = role in STAFF_ROLES
        return save_with_history(user, actor=actor, reason=reason, update_fields=["role", "is_staff"])


def _require_actor(actor):
    if actor is None or not actor.is_authenticated:
        raise PortalError("Sign in to change accounts.")


def set_password_link(user):
    """The one-time link with which ``user`` sets a password (the password-reset token)."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def invite_account(*, organisation, email, full_name, role, actor, reason):
    """Create an account without a password and e-mail its owner a link to set one.

    Portal administrators invite operators, auditors and an organisation's first administrator
    (``policies.require_grant_role``); the person sets a password with the link, then enrols a
    second factor at first sign-in."""
    from portal.notifications.services import notify

    if not " ".join((full_name or "").split()):
        raise PortalError("Enter the person's full name.", field="full_name")
    with transaction.atomic():
        user = create_member(
            organisation=organisation,
            email=email,
            full_name=full_name,
            role=role,
            actor=actor,
            reason=reason,
        )
        notify(
            event="account_invitation",
            recipients=[user],
            subject="You are invited to the Frontier Access Portal",
            context={
                "organisation": organisation.name,
                "inviter": actor.full_name or actor.email,
                "role": Role(role).label,
            },
            link=set_password_link(user),
            key=f"user:{user.pk}",
            object_label=organisation.name,
        )
        return user


def deactivate_member(*, user, actor, reason):
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise PortalError(f"{user.email} is already deactivated.")
        user.is_active = False
        return save_with_history(user, actor=actor, reason=reason, update_fields=["is_active"])


def deactivate_dormant_accounts(*, now=None, dormant_days=90):
    """Disable accounts unused for ``dormant_days`` (NIST SP 800-53 AC-2(3)); run by beat."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=dormant_days)
    actor = system_user()
    dormant = User.objects.filter(is_active=True, last_login__lt=cutoff).exclude(role=Role.SYSTEM)
    count = 0
    for user in dormant.iterator():
        deactivate_member(
            user=user,
            actor=actor,
            reason=f"Deactivated automatically: no sign-in for {dormant_days} days.",
        )
        count += 1
    return count
