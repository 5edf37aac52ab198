"""``seed_demo`` builds the demo world and is safe to run twice."""

import pytest
from django.core.management import call_command

from portal.accounts.demo import DEMO_PASSWORD, PEOPLE
from portal.accounts.models import Organisation, User

pytestmark = pytest.mark.django_db


def world():
    return (
        sorted(Organisation.objects.values_list("name", "kind")),
        sorted(User.objects.values_list("email", "role", "organisation__name")),
    )


def test_seed_demo_twice_gives_the_same_world(client):
    call_command("seed_demo", verbosity=0)
    first = world()
    call_command("seed_demo", verbosity=0)
    assert world() == first
    emails = {row[0] for row in first[1]}
    assert {email for email, *_ in PEOPLE} <= emails
    for email, *_ in PEOPLE:
        assert client.login(username=email, password=DEMO_PASSWORD), email
        client.logout()
