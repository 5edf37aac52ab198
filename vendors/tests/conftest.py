"""Fixtures of the registry's tests: one vendor with a member of each role, and outsiders.

The world is built once per test module and rolled back at its end; each test gets fresh Python
objects of its rows, in a savepoint of its own (``conftest.built_once_per_module``). A module with
a test that needs real commits builds it per test.
"""

from dataclasses import dataclass, fields

import pytest

from conftest import world_fixtures
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


def build_world():
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


def fresh(world):
    """The same rows, read again: nothing a test changed in memory reaches the next one."""
    objects = {f.name: getattr(world, f.name) for f in fields(world)}
    return World(**{name: type(obj)._default_manager.get(pk=obj.pk) for name, obj in objects.items()})


module_world, world = world_fixtures(build_world, fresh)
