"""Every registry service: the happy path, each refusal, and what it leaves behind."""

import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from portal.accounts.models import Organisation, Role, User
from portal.accounts.services import system_user
from portal.errors import PortalError
from portal.notifications.models import Notification
from portal.permissions import has_object_permission
from portal.tests.factories import OrganisationFactory
from vendors import services
from vendors.choices import Sector
from vendors.demo import demo_pdf
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory, member_of

pytestmark = pytest.mark.django_db


def customer_fields(**overrides):
    fields = {
        "legal_name": "Great Lakes Grid Operations LLC",
        "country": "US",
        "sector": Sector.ENERGY,
        "registration_id": "EIN 12-3456789",
        "intended_use": "Alert triage in the SOC.",
        "security_contact_name": "Dana Example",
        "security_contact_email": "security@grid.example",
    }
    fields.update(overrides)
    return fields


def last_history(obj):
    return type(obj).history.filter(id=obj.pk).order_by("-history_date", "-history_id").first()


# ---------------------------------------------------------------------------------------------
# Vendor and team


def test_create_vendor_makes_three_groups_and_puts_existing_members_in_them():
    organisation = OrganisationFactory(kind=Organisation.Kind.VENDOR)
    admin = User.objects.create_user(
        "boss@v.example", "x" * 12, organisation=organisation, role=Role.VENDOR_ADMIN, full_name="Bo Ss"
    )
    vendor = services.create_vendor(
        organisation=organisation, legal_name="  New   Vendor Inc. ", actor=system_user(), reason="Onboarding"
    )
    assert vendor.legal_name == "New Vendor Inc."
    assert set(admin.groups.all()) == {vendor.members_group, vendor.editors_group, vendor.admins_group}
    assert has_object_permission(admin, vendor, "manage_team")
    record = last_history(vendor)
    assert record.history_change_reason == "Onboarding"
    assert record.history_user == system_user()


def test_only_portal_administrators_create_vendors_and_only_for_vendor_organisations(world):
    with pytest.raises(PortalError, match="Only portal administrators"):
        services.create_vendor(
            organisation=OrganisationFactory(kind=Organisation.Kind.VENDOR),
            legal_name="X",
            actor=world.admin,
            reason="r",
        )
    with pytest.raises(PortalError, match="not a vendor"):
        services.create_vendor(
            organisation=OrganisationFactory(kind=Organisation.Kind.AGENCY),
            legal_name="X",
            actor=system_user(),
            reason="r",
        )
    with pytest.raises(PortalError, match="already registered"):
        services.create_vendor(
            organisation=world.vendor.organisation, legal_name="X", actor=system_user(), reason="r"
        )


def test_sync_member_groups_follows_the_role_and_empties_on_deactivation(world):
    v = world.vendor
    assert set(world.viewer.groups.all()) == {v.members_group}
    assert set(world.officer.groups.all()) == {v.members_group, v.editors_group}
    world.officer.is_active = False
    world.officer.save()
    services.sync_member_groups(world.officer)
    assert list(world.officer.groups.all()) == []


def test_update_vendor_profile_by_admin_writes_history(world):
    vendor = services.update_vendor_profile(
        vendor=world.vendor, actor=world.admin, reason="New contact", primary_contact_name="Kim New"
    )
    assert vendor.primary_contact_name == "Kim New"
    record = last_history(vendor)
    assert (record.history_user, record.history_change_reason) == (world.admin, "New contact")


@pytest.mark.parametrize("role", ["officer", "viewer", "other_admin", "agency"])
def test_update_vendor_profile_refused_to_everyone_but_its_admins(world, role):
    with pytest.raises(PortalError):
        services.update_vendor_profile(vendor=world.vendor, actor=world.user(role), legal_name="Hijacked")
    assert Vendor.objects.get(pk=world.vendor.pk).legal_name != "Hijacked"


def test_invite_member_creates_a_passwordless_member_and_mails_a_working_one_time_link(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    with django_capture_on_commit_callbacks(execute=True):
        member = services.invite_member(
            vendor=world.vendor,
            email="New.Person@Vendor.example",
            full_name="New Person",
            role=Role.VENDOR_OFFICER,
            actor=world.admin,
        )
    assert member.email == "new.person@vendor.example"
    assert not member.has_usable_password()
    assert set(member.groups.all()) == {world.vendor.members_group, world.vendor.editors_group}
    assert len(mailoutbox) == 1
    assert "Set your password" in mailoutbox[0].body
    link = re.search(r"(/accounts/reset/\S+/\S+/)", mailoutbox[0].body).group(1)
    uidb64, token = link.rstrip("/").split("/")[-2:]
    assert force_str(urlsafe_base64_decode(uidb64)) == str(member.pk)
    assert default_token_generator.check_token(member, token)
    # Once sent, the one-time link is erased from the outbox row.
    notification = Notification.objects.get(recipient=member, event="team_invitation")
    assert notification.status == Notification.Status.SENT
    assert "/accounts/reset/" not in notification.body + notification.link
    record = last_history(member)
    assert record.history_user == world.admin


def test_invite_adds_nobody_for_an_existing_email_and_refuses_non_admins(world):
    assert (
        services.invite_member(
            vendor=world.vendor,
            email=world.officer.email,
            full_name="X",
            role=Role.VENDOR_VIEWER,
            actor=world.admin,
        )
        is None
    )
    world.officer.refresh_from_db()
    assert world.officer.role == Role.VENDOR_OFFICER
    with pytest.raises(PortalError, match="compliance admins"):
        services.invite_member(
            vendor=world.vendor,
            email="a@b.example",
            full_name="X",
            role=Role.VENDOR_VIEWER,
            actor=world.officer,
        )
    with pytest.raises(PortalError):
        services.invite_member(
            vendor=world.vendor,
            email="a@b.example",
            full_name="X",
            role=Role.AGENCY_APPROVER,
            actor=world.admin,
        )
    assert not User.objects.filter(email="a@b.example").exists()


def test_change_member_role_moves_groups_and_writes_history(world):
    member = services.change_member_role(
        vendor=world.vendor, member=world.viewer, role=Role.VENDOR_ADMIN, actor=world.admin, reason="Cover"
    )
    assert member.role == Role.VENDOR_ADMIN
    assert world.vendor.admins_group in member.groups.all()
    record = last_history(member)
    assert (record.history_user, record.history_change_reason) == (world.admin, "Cover")


def test_the_last_admin_can_neither_be_demoted_nor_deactivated(world):
    with pytest.raises(PortalError, match="only compliance admin"):
        services.change_member_role(
            vendor=world.vendor, member=world.admin, role=Role.VENDOR_VIEWER, actor=world.admin
        )
    with pytest.raises(PortalError, match="only compliance admin"):
        services.deactivate_member(vendor=world.vendor, member=world.admin, actor=world.admin)
    world.admin.refresh_from_db()
    assert world.admin.is_active
    assert world.admin.role == Role.VENDOR_ADMIN
    # with a second admin, the first may step down
    second = member_of(world.vendor, Role.VENDOR_ADMIN)
    services.deactivate_member(vendor=world.vendor, member=world.admin, actor=second)
    world.admin.refresh_from_db()
    assert not world.admin.is_active
    assert list(world.admin.groups.all()) == []


def test_team_changes_refused_for_non_admins_and_for_other_vendors_members(world):
    with pytest.raises(PortalError):
        services.deactivate_member(vendor=world.vendor, member=world.viewer, actor=world.officer)
    with pytest.raises(PortalError, match="not a member of your vendor"):
        services.deactivate_member(vendor=world.vendor, member=world.other_admin, actor=world.admin)
    with pytest.raises(PortalError):
        services.change_member_role(
            vendor=world.vendor, member=world.viewer, role=Role.VENDOR_ADMIN, actor=world.other_admin
        )


def test_deactivating_twice_is_refused(world):
    services.deactivate_member(vendor=world.vendor, member=world.viewer, actor=world.admin)
    with pytest.raises(PortalError, match="already deactivated"):
        services.deactivate_member(vendor=world.vendor, member=world.viewer, actor=world.admin)


# ---------------------------------------------------------------------------------------------
# Frontier models


@pytest.mark.parametrize(
    ("typed", "value"), [("3.2e26", 3.2e26), ("3.2 × 10^26", 3.2e26), (5e24, 5e24), ("10^26", 1e26)]
)
def test_register_frontier_model_reads_compute_as_people_write_it(world, typed, value):
    frontier_model = services.register_frontier_model(
        vendor=world.vendor, name="Atlas", version="2.0", training_compute_flop=typed, actor=world.officer
    )
    assert frontier_model.training_compute_flop == pytest.approx(value)
    assert frontier_model.release_phase == FrontierModel.ReleasePhase.REGISTERED
    assert has_object_permission(world.viewer, frontier_model, "view")
    assert not has_object_permission(world.viewer, frontier_model, "change")
    assert has_object_permission(world.admin, frontier_model, "change")
    assert not has_object_permission(world.other_admin, frontier_model, "view")
    record = last_history(frontier_model)
    assert (record.history_user, record.history_type) == (world.officer, "+")
    assert record.history_change_reason == "Registered by the vendor"


def test_register_frontier_model_refusals(world):
    def register(**kw):
        args = {"vendor": world.vendor, "name": "Atlas", "version": "2.0", "training_compute_flop": "3e26"}
        args.update(kw)
        actor = args.pop("actor", world.officer)
        return services.register_frontier_model(actor=actor, **args)

    with pytest.raises(PortalError) as exc:
        register(training_compute_flop="lots")
    assert exc.value.field == "training_compute_flop"
    with pytest.raises(PortalError) as exc:
        register(name="  ")
    assert exc.value.field == "name"
    with pytest.raises(PortalError, match="Viewers"):
        register(actor=world.viewer)
    with pytest.raises(PortalError):
        register(actor=world.other_admin)
    with pytest.raises(PortalError):
        register(actor=world.agency)
    register()
    with pytest.raises(PortalError) as exc:
        register(name="ATLAS")
    assert exc.value.field == "version"
    assert "already registered" in exc.value.message
    assert FrontierModel.objects.count() == 1


def test_update_frontier_model_keeps_the_reviewed_fields_once_in_review(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    services.update_frontier_model(
        frontier_model=frontier_model, actor=world.officer, reason="Typo", training_compute_flop="4e26"
    )
    frontier_model.refresh_from_db()
    assert frontier_model.training_compute_flop == pytest.approx(4e26)
    assert last_history(frontier_model).history_change_reason == "Typo"

    frontier_model.release_phase = FrontierModel.ReleasePhase.IN_REVIEW
    frontier_model.save()
    with pytest.raises(PortalError) as exc:
        services.update_frontier_model(frontier_model=frontier_model, actor=world.officer, version="2.1")
    assert exc.value.field == "version"
    services.update_frontier_model(
        frontier_model=frontier_model, actor=world.officer, description="Better words"
    )
    with pytest.raises(PortalError, match="Nothing was changed"):
        services.update_frontier_model(
            frontier_model=frontier_model, actor=world.officer, description="Better words"
        )


@pytest.mark.parametrize("role", ["viewer", "other_admin", "agency"])
def test_update_frontier_model_refused_to_those_who_may_not_change_it(world, role):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    with pytest.raises(PortalError):
        services.update_frontier_model(frontier_model=frontier_model, actor=world.user(role), description="x")


def test_withdraw_is_the_only_phase_change_and_needs_a_reason(world):
    frontier_model = FrontierModelFactory(
        vendor=world.vendor, release_phase=FrontierModel.ReleasePhase.IN_REVIEW
    )
    with pytest.raises(PortalError) as exc:
        services.withdraw_frontier_model(frontier_model=frontier_model, actor=world.officer, reason=" ")
    assert exc.value.field == "reason"
    with pytest.raises(PortalError):
        services.withdraw_frontier_model(frontier_model=frontier_model, actor=world.viewer, reason="No")
    services.withdraw_frontier_model(frontier_model=frontier_model, actor=world.officer, reason="Superseded")
    frontier_model.refresh_from_db()
    assert frontier_model.release_phase == FrontierModel.ReleasePhase.WITHDRAWN
    record = last_history(frontier_model)
    assert record.history_user == world.officer
    assert record.history_change_reason == "Withdrawn by the vendor: Superseded"
    with pytest.raises(PortalError, match="already withdrawn"):
        services.withdraw_frontier_model(frontier_model=frontier_model, actor=world.officer, reason="Again")
    with pytest.raises(PortalError, match="no longer be changed"):
        services.update_frontier_model(frontier_model=frontier_model, actor=world.officer, description="x")


def test_a_suspended_model_cannot_be_withdrawn(world):
    frontier_model = FrontierModelFactory(
        vendor=world.vendor, release_phase=FrontierModel.ReleasePhase.SUSPENDED
    )
    with pytest.raises(PortalError, match="suspended"):
        services.withdraw_frontier_model(frontier_model=frontier_model, actor=world.admin, reason="Go")


# ---------------------------------------------------------------------------------------------
# Partner customers


def test_register_partner_customer_with_attestation(world):
    customer = services.register_partner_customer(
        vendor=world.vendor, actor=world.officer, attestation=True, **customer_fields()
    )
    assert customer.normalised_name == "great lakes grid operations"
    assert (customer.attested_by, customer.attestation) == (world.officer, True)
    assert customer.attested_at is not None
    assert has_object_permission(world.viewer, customer, "view")
    assert not has_object_permission(world.other_admin, customer, "view")
    assert last_history(customer).history_user == world.officer


def test_duplicate_customer_by_normalised_name_and_country_links_to_the_existing_one(world):
    first = services.register_partner_customer(vendor=world.vendor, actor=world.officer, **customer_fields())
    with pytest.raises(PortalError) as exc:
        services.register_partner_customer(
            vendor=world.vendor,
            actor=world.officer,
            **customer_fields(legal_name="GREAT LAKES  GRID Operations, L.L.C"),
        )
    assert exc.value.field == "legal_name"
    assert f'href="/vendor/customers/{first.pk}/"' in exc.value.message
    # the same name in another country, or at another vendor, is another customer
    services.register_partner_customer(
        vendor=world.vendor, actor=world.officer, **customer_fields(country="CA")
    )
    services.register_partner_customer(
        vendor=world.other_vendor, actor=world.other_admin, **customer_fields()
    )
    assert PartnerCustomer.objects.count() == 3


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": "x" * 201}, "legal_name"),
        ({"legal_name": "!!!"}, "legal_name"),
        ({"country": "XX"}, "country"),
        ({"sector": "space"}, "sector"),
        ({"security_contact_email": "not-an-address"}, "security_contact_email"),
        ({"intended_use": "   "}, "intended_use"),
    ],
)
def test_register_partner_customer_refuses_bad_fields_next_to_the_field(world, overrides, field):
    with pytest.raises(PortalError) as exc:
        services.register_partner_customer(
            vendor=world.vendor, actor=world.officer, **customer_fields(**overrides)
        )
    assert exc.value.field == field
    assert PartnerCustomer.objects.count() == 0


def test_a_frozen_customer_keeps_its_legal_name_and_country(world):
    customer = PartnerCustomerFactory(vendor=world.vendor)
    customer.identity_frozen_at = customer.created_at
    customer.save()
    for change in ({"legal_name": "Renamed Corp"}, {"country": "CA"}):
        with pytest.raises(PortalError, match="submitted access request") as exc:
            services.update_partner_customer(partner_customer=customer, actor=world.officer, **change)
        assert exc.value.field in {"legal_name", "country"}
    services.update_partner_customer(
        partner_customer=customer, actor=world.officer, reason="New contact", security_contact_name="Lee New"
    )
    customer.refresh_from_db()
    assert customer.security_contact_name == "Lee New"
    assert last_history(customer).history_change_reason == "New contact"


def test_update_partner_customer_refuses_a_rename_onto_another_customer(world):
    PartnerCustomerFactory(vendor=world.vendor, legal_name="Alpha Inc.")
    beta = PartnerCustomerFactory(vendor=world.vendor, legal_name="Beta Inc.")
    with pytest.raises(PortalError, match="already one of your partner customers"):
        services.update_partner_customer(partner_customer=beta, actor=world.officer, legal_name="ALPHA")


@pytest.mark.parametrize("role", ["viewer", "other_admin", "agency"])
def test_update_partner_customer_refused_to_those_who_may_not_change_it(world, role):
    customer = PartnerCustomerFactory(vendor=world.vendor)
    with pytest.raises(PortalError):
        services.update_partner_customer(partner_customer=customer, actor=world.user(role), intended_use="x")


def test_attestation_can_be_withdrawn_and_given_again(world):
    customer = PartnerCustomerFactory(vendor=world.vendor, attestation=False)
    services.update_partner_customer(partner_customer=customer, actor=world.admin, attestation=True)
    customer.refresh_from_db()
    assert customer.attested_by == world.admin
    services.update_partner_customer(partner_customer=customer, actor=world.admin, attestation=False)
    customer.refresh_from_db()
    assert (customer.attestation, customer.attested_by, customer.attested_at) == (False, None, None)


# ---------------------------------------------------------------------------------------------
# Evidence


def test_attach_evidence_stores_a_pdf_and_shares_it_with_the_vendor(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    upload = SimpleUploadedFile("card.pdf", demo_pdf("Card", ["One line"]), content_type="application/pdf")
    document = services.attach_evidence(
        frontier_model=frontier_model,
        kind=EvidenceDocument.Kind.MODEL_CARD,
        title="Model card",
        uploaded_file=upload,
        actor=world.officer,
    )
    assert document.content_type == "application/pdf"
    assert document.vendor == world.vendor
    assert len(document.sha256) == 64
    assert document.file.read().startswith(b"%PDF-")
    assert has_object_permission(world.viewer, document, "view")
    assert not has_object_permission(world.other_admin, document, "view")
    assert last_history(document).history_user == world.officer


def test_attach_evidence_refuses_a_renamed_binary_and_leaves_nothing(world, settings):
    customer = PartnerCustomerFactory(vendor=world.vendor)
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03binary", content_type="application/pdf")
    with pytest.raises(PortalError, match="not a PDF") as exc:
        services.attach_evidence(
            partner_customer=customer, kind="other", title="Report", uploaded_file=fake, actor=world.officer
        )
    assert exc.value.field == "file"
    assert EvidenceDocument.objects.count() == 0
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_attach_evidence_refuses_viewers_and_other_vendors(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    for actor in (world.viewer, world.other_admin, world.agency):
        with pytest.raises(PortalError):
            services.attach_evidence(
                frontier_model=frontier_model,
                kind="model_card",
                title="Card",
                uploaded_file=SimpleUploadedFile("c.txt", b"text"),
                actor=actor,
            )
    assert EvidenceDocument.objects.count() == 0


def test_attach_evidence_needs_exactly_one_target_and_a_title(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    customer = PartnerCustomerFactory(vendor=world.vendor)
    with pytest.raises(PortalError, match="one model or one customer"):
        services.attach_evidence(
            frontier_model=frontier_model,
            partner_customer=customer,
            kind="other",
            title="x",
            uploaded_file=SimpleUploadedFile("c.txt", b"t"),
            actor=world.officer,
        )
    with pytest.raises(PortalError) as exc:
        services.attach_evidence(
            frontier_model=frontier_model,
            kind="other",
            title=" ",
            uploaded_file=SimpleUploadedFile("c.txt", b"t"),
            actor=world.officer,
        )
    assert exc.value.field == "title"


def test_share_with_group_lets_an_agency_read_a_customer_and_its_evidence(world):
    from django.contrib.auth.models import Group

    customer = PartnerCustomerFactory(vendor=world.vendor)
    document = services.attach_evidence(
        partner_customer=customer,
        kind="customer_attestation",
        title="Attestation",
        uploaded_file=SimpleUploadedFile("a.txt", b"We attest."),
        actor=world.officer,
    )
    officials = Group.objects.create(name="DOC officials")
    world.agency.groups.add(officials)
    assert not has_object_permission(world.agency, customer, "view")
    services.share_with_group(customer, officials)
    assert has_object_permission(world.agency, customer, "view")
    assert has_object_permission(world.agency, document, "view")
    assert not has_object_permission(world.agency, customer, "change")
