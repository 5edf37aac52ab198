import pytest

from approvals.tests.factories import build_world


@pytest.fixture
def world(db):
    return build_world()
