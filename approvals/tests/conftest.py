"""The review process's world (six agencies, their officials, a vendor and its team), built once
per test module.

Building it through the services costs about 500 queries, and most tests of this folder need
it. So it is built once per module inside a transaction that is rolled back when the module is
done; each test runs in a savepoint of that transaction (pytest-django's ``db``), so it sees the
world exactly as built and leaves nothing behind. Each test gets fresh Python objects of the
world's rows, so that nothing a test changes in memory reaches the next one.

A module with a test that needs real commits (``transaction=True``, ``live_server``: other
connections must see the rows) builds the world per test as before, inside the test.
"""

import dataclasses

import pytest

from approvals.tests.enforcement_helpers import approved
from approvals.tests.factories import build_world
from conftest import RolledBackAtTheEnd, world_fixtures


def fresh(world):
    """The same world, read again from the database: new Python objects, same rows."""

    def reload(objects):
        objects = list(objects)
        if not objects:
            return {}
        by_pk = type(objects[0])._default_manager.in_bulk([obj.pk for obj in objects])
        return {obj.pk: by_pk[obj.pk] for obj in objects}

    people = reload(world.people.values())
    agencies = reload(world.agencies.values())
    vendors = reload([world.vendor, *([world.other_vendor] if world.other_vendor else [])])
    return dataclasses.replace(
        world,
        agencies={code: agencies[agency.pk] for code, agency in world.agencies.items()},
        people={name: people[person.pk] for name, person in world.people.items()},
        vendor=vendors[world.vendor.pk],
        other_vendor=vendors[world.other_vendor.pk] if world.other_vendor else None,
        frontier_model=type(world.frontier_model)._default_manager.get(pk=world.frontier_model.pk),
        partner_customer=type(world.partner_customer)._default_manager.get(pk=world.partner_customer.pk),
        extras=dict(world.extras),
    )


module_world, world = world_fixtures(build_world, fresh)


@pytest.fixture(scope="class")
def approved_once(module_world, django_db_blocker):
    """One approved grant of the world's model (its pk), built once for a class whose tests read
    it or try refusals: each test still runs in a savepoint of its own, so anything a refused
    action wrote would be rolled back, and caught by the test's own assertions. The grant is
    rolled back after the class."""
    assert module_world is not None, "a module that commits builds its grants per test"
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            grant = approved(fresh(module_world))
        yield grant.pk
