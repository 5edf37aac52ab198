"""Users and the organisations they belong to.

Every user belongs to exactly one organisation: a vendor, an agency, the oversight office
(auditors) or the portal's operator (portal administrators and the system account). The
organisation's kind decides which roles its members may hold; the vendor and agency
records themselves live in their apps and point back here one-to-one.
"""

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from portal.audit.models import ChainedHistory
from portal.permissions import RestrictedQuerySet


class Organisation(models.Model):
    """A vendor, an agency, the oversight office or the operator of the portal."""

    class Kind(models.TextChoices):
        VENDOR = "vendor", "Vendor"
        AGENCY = "agency", "Agency"
        OVERSIGHT = "oversight", "Oversight"
        OPERATOR = "operator", "Portal operator"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), "kind", name="organisation_unique_name_per_kind"),
        ]

    def __str__(self):
        return self.name


class OrganisationUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class OrganisationGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Organisation, on_delete=models.CASCADE)


class Role(models.TextChoices):
    """What a user may do within their organisation (DESIGN.md, "Who uses it")."""

    VENDOR_ADMIN = "vendor_admin", "Compliance admin"
    VENDOR_OFFICER = "vendor_officer", "Compliance officer"
    VENDOR_VIEWER = "vendor_viewer", "Viewer"
    AGENCY_REVIEWER = "agency_reviewer", "Agency reviewer"
    AGENCY_APPROVER = "agency_approver", "Agency approver"
    AGENCY_ADMIN = "agency_admin", "Agency administrator"
    AUDITOR = "auditor", "Auditor"
    PORTAL_ADMIN = "portal_admin", "Portal administrator"
    SYSTEM = "system", "System (scheduled jobs)"


ROLES_BY_KIND = {
    Organisation.Kind.VENDOR: {Role.VENDOR_ADMIN, Role.VENDOR_OFFICER, Role.VENDOR_VIEWER},
    Organisation.Kind.AGENCY: {Role.AGENCY_REVIEWER, Role.AGENCY_APPROVER, Role.AGENCY_ADMIN},
    Organisation.Kind.OVERSIGHT: {Role.AUDITOR},
    Organisation.Kind.OPERATOR: {Role.PORTAL_ADMIN, Role.SYSTEM},
}
VENDOR_ROLES = ROLES_BY_KIND[Organisation.Kind.VENDOR]
AGENCY_ROLES = ROLES_BY_KIND[Organisation.Kind.AGENCY]
STAFF_ROLES = AGENCY_ROLES | {Role.AUDITOR, Role.PORTAL_ADMIN}


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, *, organisation, role, **extra):
        user = self.model(
            email=self.normalize_email(email).lower(), organisation=organisation, role=role, **extra
        )
        user.is_staff = role in STAFF_ROLES
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        """``createsuperuser``: a portal administrator in the operator organisation."""
        organisation, _ = Organisation.objects.get_or_create(
            kind=Organisation.Kind.OPERATOR, name="Portal operations"
        )
        extra.setdefault("full_name", "Portal administrator")
        user = self.create_user(email, password, organisation=organisation, role=Role.PORTAL_ADMIN, **extra)
        user.is_superuser = True
        user.save(update_fields=["is_superuser"])
        return user


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address and belongs to one organisation."""

    email = models.EmailField("e-mail address", max_length=254, unique=True)
    full_name = models.CharField(max_length=200)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=30, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can open the agency dashboard (set from the role)."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    history = ChainedHistory(excluded_fields=["password", "last_login"])

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(condition=models.Q(email=Lower("email")), name="user_email_lowercase"),
            # Separation of duties (issue 13): the superuser flag is the operator's, never an
            # official's or a vendor's, whatever else is changed.
            models.CheckConstraint(
                condition=models.Q(is_superuser=False) | models.Q(role="portal_admin"),
                name="user_superuser_only_portal_admin",
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        """A sign-in (Django saves ``last_login`` alone) writes no history row: it changes no field
        that history keeps, and sign-ins are their own record (``SignInEvent``)."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and set(update_fields) <= {"last_login"}:
            self.skip_history_when_saving = True
            try:
                return super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
        return super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.email = (self.email or "").strip().lower()
        if self.organisation_id and self.role:
            allowed = ROLES_BY_KIND[self.organisation.kind]
            if self.role not in allowed:
                raise ValidationError(
                    {
                        "role": f"A member of a {self.organisation.get_kind_display().lower()} "
                        f"cannot hold the role {self.get_role_display()!r}."
                    }
                )
        if self.is_superuser and self.role != Role.PORTAL_ADMIN:
            raise ValidationError({"role": "Only portal administrators may hold the superuser flag."})

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def is_vendor_member(self):
        return self.role in VENDOR_ROLES

    @property
    def is_agency_official(self):
        return self.role in AGENCY_ROLES

    @property
    def is_auditor(self):
        return self.role == Role.AUDITOR

    @property
    def is_portal_admin(self):
        return self.role == Role.PORTAL_ADMIN

    @property
    def sees_everything(self):
        """Auditors and portal administrators read every record (DESIGN.md roles)."""
        return self.is_active and self.role in {Role.AUDITOR, Role.PORTAL_ADMIN}

    def home_url(self):
        """Where the user lands after signing in."""
        from django.urls import reverse

        return reverse("vendors:dashboard") if self.is_vendor_member else reverse("admin:index")


class SignInEvent(models.Model):
    """An append-only record of every sign-in, failed sign-in, lockout and sign-out (NIST AU-2)."""

    class Outcome(models.TextChoices):
        SIGNED_IN = "signed_in", "Signed in"
        FAILED = "failed", "Failed sign-in"
        LOCKED_OUT = "locked_out", "Refused: too many failures"
        SIGNED_OUT = "signed_out", "Signed out"
        RESET_REQUESTED = "reset_requested", "Password reset asked for"

    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="sign_in_events"
    )
    email = models.CharField(max_length=254, help_text="The address typed, as typed (lower-cased).")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.email} at {self.at:%Y-%m-%d %H:%M}"
