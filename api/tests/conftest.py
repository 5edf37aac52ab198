import pytest
from rest_framework.test import APIClient

from api import services
from api.models import ApiToken
from approvals.tests.conftest import fresh
from approvals.tests.factories import build_world
from conftest import built_once_per_module


@pytest.fixture(scope="module")
def module_world(request, django_db_setup, django_db_blocker):
    """The review's world, built once per module (``conftest.built_once_per_module``)."""
    yield from built_once_per_module(request, django_db_blocker, build_world)


@pytest.fixture
def world(module_world, db):
    return build_world() if module_world is None else fresh(module_world)


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
