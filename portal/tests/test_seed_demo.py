"""``seed_demo`` builds the demo world and is safe to run twice.

The demo world is seeded once for the module and rolled back at its end; each test works on it
in a savepoint of its own."""

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


def test_seed_demo_twice_gives_the_same_world(demo_world, client):
    # given the demo world seeded once (by the module), when it is seeded a second time
    first = world()
    call_command("seed_demo", verbosity=0)
    assert world() == first
    emails = {row[0] for row in first[1]}
    assert {email for email, *_ in PEOPLE} <= emails
    for email, *_ in PEOPLE:
        assert client.login(username=email, password=DEMO_PASSWORD), email
        client.logout()


def test_verify_audit_passes_on_the_demo_world_and_names_a_row_altered_by_hand(demo_world):
    """Issue 14's Done-when: the demo world's history chains hold; one decision's history row
    rewritten in the database by hand is named."""
    from io import StringIO

    from django.core.management.base import CommandError
    from django.db import connection

    from approvals.models import Decision

    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit chain intact" in out.getvalue()
    row = Decision.history.order_by("history_id").first()
    table = Decision.history.model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET history_change_reason = %s WHERE history_id = %s",
            ["Approved by someone else.", row.history_id],
        )
    with pytest.raises(CommandError, match=rf"approvals\.decision history row {row.history_id} .*altered"):
        call_command("verify_audit", stdout=StringIO())


def test_no_two_demo_people_share_a_name(demo_world):
    # (an approver and an agency administrator were both "Jamie Ortiz": history rows and mails
    # read as if one person had done both)
    names = list(User.objects.values_list("full_name", flat=True))
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
