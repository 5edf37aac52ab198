"""History rows written in bulk by the database (``portal.audit.bulk.copy_to_history``): the hash
PostgreSQL computes is the one ``portal.audit.chain.row_hash`` computes, so ``verify_audit``
checks them like any other, and each row follows its record's newest one."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from portal.accounts.models import Organisation, User
from portal.audit import bulk, chain
from portal.tests.factories import portal_admin, vendor_user

pytestmark = pytest.mark.django_db

AWKWARD = [
    'Quote " and backslash \\ and slash /',
    "Tab\there, newline\nthere, carriage\rreturn, bell \x07 and escape \x1b, unit \x1f",
    "Non-ASCII: Zoë Müller — “curly” ✓ 🚀 \u2028 line separator, \x7f delete",
    "<script>alert('x')</script> & ampersand",
    "Plain",
]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("the set-based history rows are PostgreSQL's; elsewhere they are chained in Python")


def organisations(names, created_at):
    rows = [Organisation(name=name, kind=Organisation.Kind.VENDOR, created_at=created_at) for name in names]
    return Organisation.objects.bulk_create(rows)


@pytest.mark.parametrize(
    "created_at",
    [
        datetime.datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=datetime.UTC),
        datetime.datetime(2026, 3, 1, 12, 30, 5, tzinfo=datetime.UTC),  # whole seconds: no fraction
        datetime.datetime(
            1999, 12, 31, 23, 59, 59, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
        ),
    ],
)
def test_the_database_hashes_rows_as_the_chain_does(postgres, created_at):
    rows = organisations(AWKWARD, created_at)
    actor = portal_admin()
    written = bulk.copy_to_history(
        Organisation,
        [o.pk for o in rows],
        history_type="+",
        actor=actor,
        reason="Bulk: “quoted” reason\nwith a newline",
        when=timezone.now(),
    )
    assert written == len(AWKWARD)
    history = list(Organisation.history.filter(id__in=[o.pk for o in rows]).order_by("id"))
    assert [h.name for h in history] == AWKWARD
    for row in history:
        assert row.history_prev_hash == ""
        assert row.history_type == "+"
        assert row.history_user_id == actor.pk
        assert len(row.history_hash) == 64
        assert row.history_hash == chain.row_hash(row), chain.canonical(row)
    assert chain.verify_table(Organisation.history.model)[1] is None


def test_a_changed_row_follows_its_records_newest_row(postgres):
    rows = organisations(["First", "Second"], timezone.now())
    bulk.copy_to_history(
        Organisation, [o.pk for o in rows], history_type="+", actor=None, reason="Made.", when=timezone.now()
    )
    Organisation.objects.filter(pk=rows[0].pk).update(name="First, renamed")
    bulk.copy_to_history(
        Organisation, [o.pk for o in rows], history_type="~", actor=None, reason=None, when=timezone.now()
    )
    for organisation in rows:
        made, changed = Organisation.history.filter(id=organisation.pk).order_by("history_id")
        assert changed.history_prev_hash == made.history_hash
        assert changed.history_hash == chain.row_hash(changed)
        assert changed.history_change_reason is None
    assert Organisation.history.filter(id=rows[0].pk).latest("history_id").name == "First, renamed"
    assert chain.verify_table(Organisation.history.model)[1] is None


def test_fields_at_their_defaults_are_left_out_as_the_chain_leaves_them_out(postgres):
    # a user at every default (empty strings, false flags, nulls) and one with them all set
    plain = vendor_user(full_name="")
    User.objects.filter(pk=plain.pk).update(last_login=None)
    busy = portal_admin()
    bulk.copy_to_history(
        User, [plain.pk, busy.pk], history_type="~", actor=busy, reason="Both.", when=timezone.now()
    )
    for user in (plain, busy):
        row = User.history.filter(id=user.pk).latest("history_id")
        assert row.history_hash == chain.row_hash(row), chain.canonical(row)
    assert chain.verify_table(User.history.model)[1] is None


def test_a_table_the_sql_form_does_not_cover_is_chained_in_python(monkeypatch):
    from vendors.models import FrontierModel

    assert not bulk._sql_form_covers(FrontierModel.history.model)  # its float field
    # (an organisation, made to look uncovered, takes the same path)
    monkeypatch.setattr(bulk, "_sql_form_covers", lambda history_model: False)
    rows = organisations(["Python path"], timezone.now())
    bulk.copy_to_history(
        Organisation, [rows[0].pk], history_type="+", actor=None, reason="Made.", when=timezone.now()
    )
    Organisation.objects.filter(pk=rows[0].pk).update(name="Python path, renamed")
    bulk.copy_to_history(
        Organisation, [rows[0].pk], history_type="~", actor=None, reason="Again.", when=timezone.now()
    )
    made, changed = Organisation.history.filter(id=rows[0].pk).order_by("history_id")
    assert (made.history_type, changed.history_type) == ("+", "~")
    assert changed.history_prev_hash == made.history_hash
    assert changed.name == "Python path, renamed"
    assert chain.verify_table(Organisation.history.model)[1] is None
