"""Builders for the review process's tests: agencies, officials and requests in any state.

Everything goes through the services, so a request built here is exactly what a person
would have produced through the pages.
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from approvals.models import Agency, RequestCount
from approvals.models.review import refresh_next_due
from portal.accounts.models import Organisation, Role
from portal.accounts.services import system_user
from portal.tests.factories import OrganisationFactory, UserFactory, auditor, portal_admin
from vendors.choices import Sector
from vendors.models import FrontierModel
from vendors.tests.factories import (
    FrontierModelFactory,
    PartnerCustomerFactory,
    VendorFactory,
    vendor_admin,
    vendor_officer,
    vendor_viewer,
)

AGENCY_CODES = ["DOC", "ONCD", "OSTP", "CISA", "STATE", "DOD"]


def make_agency(code, *, is_lead=False, requires_two_persons=False):
    organisation = OrganisationFactory(kind=Organisation.Kind.AGENCY, name=f"Agency {code}")
    return services.create_agency(
        organisation=organisation,
        code=code,
        is_lead=is_lead,
        requires_two_persons=requires_two_persons,
        actor=system_user(),
        reason="Created by a test factory",
    )


def official(agency, role=Role.AGENCY_REVIEWER, **kwargs):
    """A person of ``agency`` with ``role`` (the save puts them in the officials' group)."""
    return UserFactory(organisation=agency.organisation, role=role, is_staff=True, **kwargs)


def document(name="end-use-statement.txt", content=b"End-use statement: defensive security operations.\n"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


@dataclass
class World:
    """Six agencies with the default rules, officials, one vendor with its team, a model in
    limited preview and a U.S. customer outside the critical-infrastructure sectors."""

    agencies: dict
    people: dict
    vendor: object
    frontier_model: object
    partner_customer: object
    other_vendor: object = None
    extras: dict = field(default_factory=dict)

    def __getitem__(self, name):
        return self.people[name]

    def agency(self, code):
        return self.agencies[code]


def build_world(*, two_persons_at_doc=False):
    agencies = {
        code: make_agency(
            code, is_lead=code == "DOC", requires_two_persons=two_persons_at_doc and code == "DOC"
        )
        for code in AGENCY_CODES
    }
    services.ensure_default_routing_rules(actor=system_user())
    vendor = VendorFactory()
    other_vendor = VendorFactory()
    people = {
        "doc_reviewer": official(agencies["DOC"], Role.AGENCY_REVIEWER),
        "doc_reviewer2": official(agencies["DOC"], Role.AGENCY_REVIEWER),
        "doc_approver": official(agencies["DOC"], Role.AGENCY_APPROVER),
        "doc_approver2": official(agencies["DOC"], Role.AGENCY_APPROVER),
        "doc_admin": official(agencies["DOC"], Role.AGENCY_ADMIN),
        "oncd_reviewer": official(agencies["ONCD"], Role.AGENCY_REVIEWER),
        "oncd_approver": official(agencies["ONCD"], Role.AGENCY_APPROVER),
        "ostp_approver": official(agencies["OSTP"], Role.AGENCY_APPROVER),
        "cisa_approver": official(agencies["CISA"], Role.AGENCY_APPROVER),
        "state_approver": official(agencies["STATE"], Role.AGENCY_APPROVER),
        "dod_approver": official(agencies["DOD"], Role.AGENCY_APPROVER),
        "vendor_admin": vendor_admin(vendor),
        "officer": vendor_officer(vendor),
        "viewer": vendor_viewer(vendor),
        "other_officer": vendor_officer(other_vendor),
        "auditor": auditor(),
        "portal_admin": portal_admin(),
    }
    frontier_model = FrontierModelFactory(
        vendor=vendor, release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW
    )
    partner_customer = PartnerCustomerFactory(vendor=vendor, country="US", sector=Sector.OTHER)
    return World(
        agencies=agencies,
        people=people,
        vendor=vendor,
        frontier_model=frontier_model,
        partner_customer=partner_customer,
        other_vendor=other_vendor,
    )


def draft(world, *, actor=None, frontier_model=None, partner_customer=None, with_document=True, **fields):
    actor = actor or world["officer"]
    values = {
        "use_case": "Triage of intrusion alerts in the customer's security operations centre.",
        "scope": "200 analyst seats; U.S. region only; no customer data leaves the tenant.",
        "requested_duration_days": 365,
    }
    values.update(fields)
    access_request = services.create_draft_request(
        actor=actor,
        frontier_model=frontier_model or world.frontier_model,
        partner_customer=partner_customer or world.partner_customer,
        **values,
    )
    if with_document:
        services.attach_request_document(access_request=access_request, actor=actor, uploaded_file=document())
    return refresh(access_request)


def submitted(world, **kwargs):
    access_request = draft(world, **kwargs)
    return refresh(services.submit_request(access_request=access_request, actor=world["officer"]))


def new_customer(world, **kwargs):
    kwargs.setdefault("sector", Sector.OTHER)
    kwargs.setdefault("country", "US")
    return PartnerCustomerFactory(vendor=world.vendor, **kwargs)


def referral(access_request, code):
    return access_request.referrals.get(agency__code=code)


def sign(world, access_request, code, stance="concur", *, rationale="", conditions=()):
    """The agency's approver drafts and signs its position."""
    approver = world[f"{code.lower()}_approver"]
    services.draft_position(
        referral=referral(access_request, code),
        actor=approver,
        stance=stance,
        rationale=rationale,
        conditions=conditions,
    )
    return services.sign_position(referral=referral(access_request, code), actor=approver)


def all_concur(world, access_request, **kwargs):
    for ref in access_request.referrals.select_related("agency"):
        sign(world, access_request, ref.agency.code, **kwargs)
    return refresh(access_request)


def refresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def lead():
    return Agency.objects.get(is_lead=True)


def bulk_copies(template, count, *, copied=None, **varying):
    """``count`` copies of ``template``'s row in one insert, each with the object permissions the
    template holds for its users and groups, so that each copy is seen by exactly the people
    who see the template. For size tests: ``varying`` maps a field to a function of the copy's
    index (0, 1, …). A copy has no history and sends nothing: it is a row to list, not an event.

    ``copied`` maps ``(model, pk)`` of rows already copied to their copies' pks: a foreign key to
    one of them points copy n at copy n (``bulk_case_copies`` copies a whole case that way).
    """
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    model = type(template)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    copied = copied if copied is not None else {}
    rows = []
    for n in range(count):
        values = {f.attname: getattr(template, f.attname) for f in fields if f.name not in varying}
        for f in fields:
            target = f.is_relation and copied.get((f.related_model, values.get(f.attname)))
            if target:
                values[f.attname] = target[n]
        values.update({name: value_of(n) for name, value_of in varying.items()})
        rows.append(model(**values))
    copies = model._default_manager.bulk_create(rows)
    copied[(model, template.pk)] = [c.pk for c in copies]
    if model._meta.auto_created:  # a many-to-many row: no permissions of its own
        return copies
    for permission_model in (get_user_obj_perms_model(model), get_group_obj_perms_model(model)):
        holder = permission_model.objects.user_or_group_field
        if permission_model.objects.is_generic():  # guardian's shared table, keyed by type and pk
            held = permission_model.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_pk=str(template.pk)
            )
            held = list(held.values_list(f"{holder}_id", "permission_id", "content_type_id"))
            made = [
                permission_model(object_pk=str(copy.pk), content_type_id=kind, permission_id=permission)
                for copy in copies
                for _, permission, kind in held
            ]
        else:
            held = permission_model.objects.filter(content_object=template)
            held = list(held.values_list(f"{holder}_id", "permission_id"))
            made = [
                permission_model(content_object=copy, permission_id=permission)
                for copy in copies
                for _, permission in held
            ]
        for row, (who, *_) in zip(made, (h for _ in copies for h in held), strict=True):
            setattr(row, f"{holder}_id", who)
        permission_model.objects.bulk_create(made)
    return copies


def bulk_submitted(world, count):
    """``count`` submitted requests, each for a customer of its own: the first through the
    services, the others copies of it (with copies of its customer and referrals) in bulk."""
    from vendors.models import normalise_name

    first = submitted(world, partner_customer=new_customer(world))
    customer = first.partner_customer
    customers = bulk_copies(
        customer,
        count - 1,
        legal_name=lambda n: f"{customer.legal_name} copy {n}",
        normalised_name=lambda n: normalise_name(f"{customer.legal_name} copy {n}"),
    )
    year = first.tracking_number.split("-")[1]
    requests = bulk_copies(
        first,
        count - 1,
        partner_customer=lambda n: customers[n],
        tracking_number=lambda n: f"FAR-{year}-{900000 + n:06d}",  # far from the services' numbers
    )
    for template in first.referrals.all():
        bulk_copies(template, count - 1, access_request=lambda n: requests[n])
    # rows written in bulk skip the models' save: what it keeps is kept here (issue 18)
    refresh_next_due(r.pk for r in requests)
    RequestCount.recount(first.vendor_id)
    return [first, *requests]


def bulk_case_copies(access_request, count):
    """``count`` copies of a case the services built, in bulk: its customer, the request, its
    referrals (with their assignments), positions, conditions, questions, decision, grant (with
    its conditions), the grant's revocation and their letters, each row with the template row's
    object permissions, and the copies' foreign keys pointing at each other. For the 5-versus-50
    row tests of every list: the lists get ``count`` more rows of every kind the case has."""
    from approvals.models import (
        Condition,
        Decision,
        EnforcementAction,
        Grant,
        InformationRequest,
        Letter,
        Position,
        Referral,
    )
    from vendors.models import normalise_name

    copied = {}
    # the rows as they are now (the caller's object may predate the services' later changes)
    access_request = type(access_request).objects.select_related("partner_customer").get(pk=access_request.pk)
    customer = access_request.partner_customer
    bulk_copies(
        customer,
        count,
        copied=copied,
        legal_name=lambda n: f"{customer.legal_name} copy {access_request.pk}-{n}",
        normalised_name=lambda n: normalise_name(f"{customer.legal_name} copy {access_request.pk}-{n}"),
    )
    year = access_request.tracking_number.split("-")[1]
    bulk_copies(
        access_request,
        count,
        copied=copied,
        # far from the services' numbers (and from bulk_submitted's)
        tracking_number=lambda n: f"FAR-{year}-{(800000 + access_request.pk * 1000 + n) % 10**6:06d}",
    )
    grants = Grant.objects.filter(access_request=access_request)
    in_order = [
        Referral.objects.filter(access_request=access_request),
        Referral.assigned_officials.through.objects.filter(referral__access_request=access_request),
        Position.objects.filter(referral__access_request=access_request),
        Condition.objects.filter(access_request=access_request),
        InformationRequest.objects.filter(access_request=access_request),
        Decision.objects.filter(access_request=access_request),
        Decision.conditions.through.objects.filter(decision__access_request=access_request),
        grants,
        Grant.conditions.through.objects.filter(grant__in=grants),
        EnforcementAction.objects.filter(grant__in=grants),
    ]
    for queryset in in_order:
        for template in queryset.order_by("pk"):
            bulk_copies(template, count, copied=copied)
    letters = Letter.objects.filter(access_request=access_request) | Letter.objects.filter(
        enforcement_action__grant__in=grants
    )
    for template in letters.order_by("pk"):
        bulk_copies(template, count, copied=copied, reference=lambda n, t=template: f"{t.reference}-{n}")
    # rows written in bulk skip the models' save: what it keeps is kept here (issue 18)
    refresh_next_due(copied[(type(access_request), access_request.pk)])
    RequestCount.recount(access_request.vendor_id)
    return copied[(type(access_request), access_request.pk)]
