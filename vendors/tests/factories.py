"""factory_boy factories for the registry; the review app's tests build on these.

``VendorFactory`` goes through ``services.create_vendor`` so that every vendor has its three
permission groups; ``member_of(vendor, role)`` makes a person of that vendor in the right
groups. Models and customers are written directly (fast) and shared with the vendor's groups
exactly as the services share them.
"""

import factory

from portal.accounts.models import Organisation, Role
from portal.accounts.services import system_user
from portal.audit.history import stamp
from portal.tests.factories import OrganisationFactory, UserFactory
from vendors import services
from vendors.choices import Sector
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    organisation = factory.SubFactory(
        OrganisationFactory,
        kind=Organisation.Kind.VENDOR,
        name=factory.Sequence(lambda n: f"Vendor {n} Labs"),
    )
    legal_name = factory.LazyAttribute(lambda o: f"{o.organisation.name} Inc.")
    registration_ids = factory.Sequence(lambda n: f"EIN 12-{3456700 + n}")
    primary_contact_name = "Robin Contact"
    primary_contact_email = factory.Sequence(lambda n: f"contact{n}@vendor.example")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.create_vendor(actor=system_user(), reason="Created by a test factory", **kwargs)


def member_of(vendor, role=Role.VENDOR_OFFICER, **kwargs):
    """A person of ``vendor`` with ``role``, in the groups that role gives."""
    user = UserFactory(organisation=vendor.organisation, role=role, is_staff=False, **kwargs)
    services.sync_member_groups(user, vendor=vendor)
    return user


def vendor_admin(vendor=None, **kwargs):
    return member_of(vendor or VendorFactory(), Role.VENDOR_ADMIN, **kwargs)


def vendor_officer(vendor=None, **kwargs):
    return member_of(vendor or VendorFactory(), Role.VENDOR_OFFICER, **kwargs)


def vendor_viewer(vendor=None, **kwargs):
    return member_of(vendor or VendorFactory(), Role.VENDOR_VIEWER, **kwargs)


class _SharedWithVendor(factory.django.DjangoModelFactory):
    """Saves with a history reason and shares the row with its vendor's groups."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        obj = model_class(*args, **kwargs)
        stamp(obj, actor=None, reason="Created by a test factory")
        obj.save()
        services.share_with_vendor(obj, obj.vendor)
        return obj


class FrontierModelFactory(_SharedWithVendor):
    class Meta:
        model = FrontierModel

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Model {n}")
    version = "1.0"
    description = "A general-purpose language model."
    training_compute_flop = 3.2e26
    capability_summary = "Strong code generation and reasoning."
    cyber_evaluation_summary = "Red-teamed for offensive cyber uplift; moderate uplift found."
    release_phase = FrontierModel.ReleasePhase.REGISTERED
    created_by = factory.LazyFunction(system_user)


class PartnerCustomerFactory(_SharedWithVendor):
    class Meta:
        model = PartnerCustomer

    vendor = factory.SubFactory(VendorFactory)
    legal_name = factory.Sequence(lambda n: f"Customer {n} Corporation")
    country = "US"
    sector = Sector.ENERGY
    registration_id = factory.Sequence(lambda n: f"REG-{n:05d}")
    intended_use = "Defensive security operations: triage of intrusion alerts."
    security_contact_name = "Kim Security"
    security_contact_email = factory.Sequence(lambda n: f"security{n}@customer.example")
    attestation = True
    created_by = factory.LazyFunction(system_user)


class EvidenceDocumentFactory(_SharedWithVendor):
    """A small plain-text document attached to a model (pass ``partner_customer=`` and
    ``frontier_model=None`` to attach it to a customer)."""

    class Meta:
        model = EvidenceDocument

    frontier_model = factory.SubFactory(FrontierModelFactory)
    partner_customer = None
    vendor = factory.LazyAttribute(lambda o: (o.frontier_model or o.partner_customer).vendor)
    kind = EvidenceDocument.Kind.MODEL_CARD
    title = factory.Sequence(lambda n: f"Model card {n}")
    file = factory.django.FileField(filename="card.txt", data=b"Model card: evaluated.\n")
    original_filename = "card.txt"
    content_type = "text/plain"
    size_bytes = 23
    sha256 = "0" * 64
    uploaded_by = factory.LazyAttribute(lambda o: system_user())
