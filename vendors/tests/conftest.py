"""Fixtures of the registry's tests: one vendor with a member of each role, and outsiders."""

from dataclasses import dataclass

import pytest

from portal.accounts.models import Role
from portal.tests.factories import agency_user
from vendors.tests.factories import VendorFactory, member_of


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@dataclass
class World:
    vendor: object
    admin: object
    officer: object
    viewer: object
    other_vendor: object
    other_admin: object
    agency: object

    def user(self, role):
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def world(db):
    vendor = VendorFactory()
    other_vendor = VendorFactory()
    return World(
        vendor=vendor,
        admin=member_of(vendor, Role.VENDOR_ADMIN),
        officer=member_of(vendor, Role.VENDOR_OFFICER),
        viewer=member_of(vendor, Role.VENDOR_VIEWER),
        other_vendor=other_vendor,
        other_admin=member_of(other_vendor, Role.VENDOR_ADMIN),
        agency=agency_user(),
    )
