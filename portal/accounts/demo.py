"""The demo world's organisations and people (DESIGN.md, "Addresses and demo data")."""

import hashlib

from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import services
from portal.accounts.models import Organisation, Role, User

DEMO_PASSWORD = "portal-demo"

ORGANISATIONS = [
    ("Portal operations", Organisation.Kind.OPERATOR),
    ("Office of Oversight", Organisation.Kind.OVERSIGHT),
    ("Aurora Labs", Organisation.Kind.VENDOR),
    ("Basalt AI", Organisation.Kind.VENDOR),
    ("Department of Commerce", Organisation.Kind.AGENCY),
    ("Office of the National Cyber Director", Organisation.Kind.AGENCY),
    ("Office of Science and Technology Policy", Organisation.Kind.AGENCY),
    ("Cybersecurity and Infrastructure Security Agency", Organisation.Kind.AGENCY),
    ("Department of State", Organisation.Kind.AGENCY),
    ("Department of Defense", Organisation.Kind.AGENCY),
]

# (e-mail, full name, organisation, role, who they are in DESIGN.md's words)
PEOPLE = [
    ("admin@portal.example", "Pat Operator", "Portal operations", Role.PORTAL_ADMIN, "portal administrator"),
    (
        "compliance@aurora.example",
        "Alex Rivera",
        "Aurora Labs",
        Role.VENDOR_ADMIN,
        "compliance admin, Aurora Labs",
    ),
    (
        "officer@aurora.example",
        "Sam Chen",
        "Aurora Labs",
        Role.VENDOR_OFFICER,
        "compliance officer, Aurora Labs",
    ),
    (
        "compliance@basalt.example",
        "Jordan Okafor",
        "Basalt AI",
        Role.VENDOR_ADMIN,
        "compliance admin, Basalt AI",
    ),
    (
        "reviewer@doc.example",
        "Morgan Ellis",
        "Department of Commerce",
        Role.AGENCY_REVIEWER,
        "reviewer, DOC (lead)",
    ),
    (
        "approver@doc.example",
        "Taylor Brooks",
        "Department of Commerce",
        Role.AGENCY_APPROVER,
        "approver, DOC (lead)",
    ),
    (
        "approver@oncd.example",
        "Casey Nguyen",
        "Office of the National Cyber Director",
        Role.AGENCY_APPROVER,
        "approver, ONCD",
    ),
    (
        "approver@ostp.example",
        "Riley Patel",
        "Office of Science and Technology Policy",
        Role.AGENCY_APPROVER,
        "approver, OSTP",
    ),
    (
        "approver@cisa.example",
        "Drew Kim",
        "Cybersecurity and Infrastructure Security Agency",
        Role.AGENCY_APPROVER,
        "approver, CISA",
    ),
    ("approver@state.example", "Jamie Ortiz", "Department of State", Role.AGENCY_APPROVER, "approver, STATE"),
    ("approver@dod.example", "Avery Lee", "Department of Defense", Role.AGENCY_APPROVER, "approver, DOD"),
    ("auditor@oversight.example", "Quinn Adams", "Office of Oversight", Role.AUDITOR, "auditor"),
    (
        "admin@doc.example",
        "Dana Whitfield",
        "Department of Commerce",
        Role.AGENCY_ADMIN,
        "agency administrator, DOC (decides who reviews and approves for DOC)",
    ),
    (
        "deputy@doc.example",
        "Robin Shah",
        "Department of Commerce",
        Role.AGENCY_ADMIN,
        "agency administrator, DOC (the second person for approver grants)",
    ),
]

REASON = "Demo world created by seed_demo."


def seed_accounts():
    """Create the demo organisations and people that are missing; leave the rest alone."""
    actor = services.system_user()
    organisations = {}
    for name, kind in ORGANISATIONS:
        organisation = Organisation.objects.filter(name=name, kind=kind).first()
        if organisation is None:
            organisation = services.create_organisation(name=name, kind=kind, actor=actor, reason=REASON)
        organisations[name] = organisation
    for email, full_name, organisation_name, role, _ in PEOPLE:
        if User.objects.filter(email=email).exists():
            continue
        user = services.create_member(
            organisation=organisations[organisation_name],
            email=email,
            full_name=full_name,
            role=role,
            actor=actor,
            reason=REASON,
            password=DEMO_PASSWORD,
        )
        if role == Role.PORTAL_ADMIN:
            user.is_superuser = True
            user.save(update_fields=["is_superuser"])
    seed_authenticators()
    return organisations


def demo_totp_key(email):
    """The demo person's authenticator secret: derived from the address, so ``demo_codes`` can
    print its codes. Never used for anyone outside ``PEOPLE``."""
    return hashlib.sha256(f"{DEMO_PASSWORD}:{email}".encode()).hexdigest()[:40]


def seed_authenticators():
    """Every demo login has an authenticator app set up (issue 13): ``manage.py demo_codes``."""
    for email, *_ in PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None or TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            continue
        TOTPDevice.objects.create(
            user=user, name="Demo authenticator", key=demo_totp_key(email), confirmed=True
        )


def demo_devices():
    """(e-mail, device) of the demo logins whose authenticator is still the seeded one."""
    emails = [email for email, *_ in PEOPLE]
    devices = TOTPDevice.objects.filter(user__email__in=emails, confirmed=True).select_related("user")
    return [(d.user.email, d) for d in devices if d.key == demo_totp_key(d.user.email)]
