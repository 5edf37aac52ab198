"""Fixtures for the notification tests (the fault-test machinery lives in ``faults.py``)."""

import pytest

from portal.tests.factories import agency_user, vendor_user


@pytest.fixture
def officer(db):
    return vendor_user(full_name="Vera Officer", email="vera@aurora.example")


@pytest.fixture
def colleague(officer):
    return vendor_user(organisation=officer.organisation, full_name="Colin Colleague")


@pytest.fixture
def official(db):
    return agency_user(full_name="Ada Official")


@pytest.fixture
def failing_smtp(settings):
    """Every send raises as a mail server answering 451 would."""
    settings.EMAIL_BACKEND = "portal.notifications.tests.backends.RefusingBackend"


@pytest.fixture
def rejecting_smtp(settings):
    """Every send is rejected for good (550)."""
    settings.EMAIL_BACKEND = "portal.notifications.tests.backends.RejectingBackend"
