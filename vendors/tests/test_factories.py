"""The factories other apps' tests rely on give vendors, members and records wired as services do."""

import pytest

from portal.accounts.models import Role
from portal.permissions import has_object_permission, visible_to
from vendors.models import FrontierModel
from vendors.tests.factories import (
    EvidenceDocumentFactory,
    FrontierModelFactory,
    PartnerCustomerFactory,
    VendorFactory,
    member_of,
)

pytestmark = pytest.mark.django_db


def test_vendor_members_see_their_records_and_only_editors_may_change_them():
    vendor = VendorFactory()
    frontier_model = FrontierModelFactory(vendor=vendor)
    customer = PartnerCustomerFactory(vendor=vendor)
    document = EvidenceDocumentFactory(frontier_model=frontier_model)
    viewer = member_of(vendor, Role.VENDOR_VIEWER)
    officer = member_of(vendor, Role.VENDOR_OFFICER)
    outsider = member_of(VendorFactory(), Role.VENDOR_ADMIN)

    for obj in (vendor, frontier_model, customer, document):
        assert has_object_permission(viewer, obj, "view")
        assert not has_object_permission(viewer, obj, "change")
        assert not has_object_permission(outsider, obj, "view")
    for obj in (frontier_model, customer, document):
        assert has_object_permission(officer, obj, "change")
    assert list(visible_to(outsider, FrontierModel.objects.all())) == []
