import pytest
from rest_framework.test import APIClient

from api import services
from api.models import ApiToken
from approvals.tests.conftest import fresh
from approvals.tests.factories import build_world
from conftest import world_fixtures

module_world, world = world_fixtures(build_world, fresh)


def make_token(world, scope=ApiToken.Scope.READ_WRITE, **kwargs):
    kwargs.setdefault("name", "provisioning")
    kwargs.setdefault("expires_in_days", 30)
    return services.create_api_token(vendor=world.vendor, actor=world["vendor_admin"], scope=scope, **kwargs)


def bearer(secret):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def rw_client(world):
    _, secret = make_token(world)
    return bearer(secret)


@pytest.fixture
def ro_client(world):
    _, secret = make_token(world, scope=ApiToken.Scope.READ)
    return bearer(secret)
