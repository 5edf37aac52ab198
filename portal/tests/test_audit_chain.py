"""The tamper-evident history chain: written with every history row, verified, alarmed, exported,
and append-only for the application's database role."""

import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from simple_history.utils import bulk_create_with_history

from portal.accounts import services
from portal.accounts.models import Organisation, Role, User
from portal.audit import chain
from portal.audit.alerts import verify_and_alert
from portal.audit.history import save_with_history
from portal.audit.management.commands.audit_grants import grant_statements, history_tables
from portal.notifications.models import Notification
from portal.tests.factories import agency_user, auditor, portal_admin, vendor_user

pytestmark = pytest.mark.django_db

HISTORY = User.history.model._meta.db_table


def a_member_with_three_rows():
    admin = vendor_user(Role.VENDOR_ADMIN)
    member = services.create_member(
        organisation=admin.organisation,
        email=f"{uuid.uuid4().hex[:8]}@example.org",
        full_name="Chained Person",
        role=Role.VENDOR_VIEWER,
        actor=admin,
        reason="Invited.",
    )
    services.change_role(user=member, role=Role.VENDOR_OFFICER, actor=admin, reason="Promoted.")
    services.deactivate_member(user=member, actor=admin, reason="Left the company.")
    return member


def rows_of(user):
    return list(User.history.filter(id=user.pk).order_by("history_id"))


def execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_every_history_row_is_linked_to_the_one_before_it():
    member = a_member_with_three_rows()
    first, second, third = rows_of(member)
    assert first.history_prev_hash == ""
    assert second.history_prev_hash == first.history_hash
    assert third.history_prev_hash == second.history_hash
    for row in (first, second, third):
        assert len(row.history_hash) == 64
        assert row.history_hash == chain.row_hash(row)
    assert chain.verify_all()[1] == []


def test_history_is_read_through_one_manager_class_per_model():
    # (the library made a new class on every read of ``Model.history``, once per row it wrote)
    from django.apps import apps

    member = a_member_with_three_rows()
    assert type(User.history) is type(User.history) is type(member.history)
    assert member.history.count() == 3
    assert User.history.filter(id=member.pk).count() == 3
    tracked = [m for m in apps.get_models() if hasattr(m._meta, "simple_history_manager_attribute")]
    assert len(tracked) > 20
    assert all(type(m.history) is type(m.history) for m in tracked)


def test_rows_written_in_bulk_are_chained_too():
    organisations = [Organisation(name=f"Bulk {n}", kind=Organisation.Kind.VENDOR) for n in range(3)]
    created = bulk_create_with_history(organisations, Organisation)
    history = Organisation.history.filter(id__in=[o.pk for o in created])
    assert history.count() == 3
    assert all(row.history_hash == chain.row_hash(row) for row in history)
    assert chain.verify_all()[1] == []


def test_an_altered_row_is_named_by_verify_audit():
    member = a_member_with_three_rows()
    _first, second, _third = rows_of(member)
    # when a person with database access rewrites who was promoted and why
    execute(
        f"UPDATE {HISTORY} SET history_change_reason = %s WHERE history_id = %s",
        ["Never happened.", second.history_id],
    )
    _checked, breaks = chain.verify_all()
    assert [(b.model_label, b.history_id) for b in breaks] == [("accounts.user", second.history_id)]
    assert "does not match its hash" in breaks[0].problem
    with pytest.raises(CommandError, match=f"accounts.user history row {second.history_id} "):
        call_command("verify_audit")


def test_a_removed_row_breaks_the_link_of_the_next_one():
    member = a_member_with_three_rows()
    _first, second, third = rows_of(member)
    execute(f"DELETE FROM {HISTORY} WHERE history_id = %s", [second.history_id])
    breaks = chain.verify_all()[1]
    assert [(b.history_id, "does not follow" in b.problem) for b in breaks] == [(third.history_id, True)]


def test_a_rehashed_row_still_breaks_the_chain_after_it():
    member = a_member_with_three_rows()
    _first, second, third = rows_of(member)
    # the forger alters the row and recomputes its own hash, but not the rows after it
    second.history_change_reason = "Never happened."
    forged = chain.row_hash(second)
    execute(
        f"UPDATE {HISTORY} SET history_change_reason = %s, history_hash = %s WHERE history_id = %s",
        ["Never happened.", forged, second.history_id],
    )
    breaks = chain.verify_all()[1]
    assert [b.history_id for b in breaks] == [third.history_id]


def test_verify_audit_passes_on_an_intact_chain():
    a_member_with_three_rows()
    from io import StringIO

    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit chain intact" in out.getvalue()


def test_a_field_at_its_default_does_not_change_the_hash():
    """A column added later with a default leaves the hashes of older rows as they were."""
    member = a_member_with_three_rows()
    row = rows_of(member)[0]
    before = chain.canonical(row)
    row.history_request_id = ""  # the default: left out of the content
    assert chain.canonical(row) == before
    row.history_request_id = "req-1"
    assert chain.canonical(row) != before


def test_the_daily_job_mails_administrators_and_auditors_when_the_chain_breaks(
    django_capture_on_commit_callbacks,
):
    admin, reader = portal_admin(), auditor()
    official = agency_user(Role.AGENCY_APPROVER)
    assert verify_and_alert()["mailed"] == 0
    member = a_member_with_three_rows()
    second = rows_of(member)[1]
    execute(f"UPDATE {HISTORY} SET role = %s WHERE history_id = %s", [Role.VENDOR_ADMIN, second.history_id])
    with django_capture_on_commit_callbacks(execute=True):
        result = verify_and_alert()
    assert result["broken"]
    assert f"history row {second.history_id}" in result["broken"][0]
    mailed = Notification.objects.filter(event="audit_chain_broken")
    assert set(mailed.values_list("recipient", flat=True)) == {admin.pk, reader.pk}
    assert official.pk not in set(mailed.values_list("recipient", flat=True))
    assert f"history row {second.history_id}" in mailed.first().body
    # once a day, not once per run
    verify_and_alert()
    assert mailed.count() == 2


def test_the_export_carries_the_head_and_can_be_checked_later(client, tmp_path):
    member = a_member_with_three_rows()
    reader = auditor()
    client.force_login(reader)
    response = client.get(
        "/admin/audit-export/", {"start": "2000-01-01", "end": "2000-12-31", "format": "json"}
    )
    assert response.status_code == 200
    head = chain.ledger_head()[0]
    assert json.loads(response.content)["chain_head"] == head == response["X-Audit-Chain-Head"]
    csv_text = client.get(
        "/admin/audit-export/", {"start": "2000-01-01", "end": "2000-12-31"}
    ).content.decode()
    assert csv_text.strip().splitlines()[-1].startswith(f"chain head,{head},,")
    # an export of today's rows, checked later against the database
    from django.utils import timezone

    today = timezone.localdate().isoformat()
    export = client.get("/admin/audit-export/", {"start": today, "end": today, "format": "json"})
    changes = json.loads(export.content)["changes"]
    assert {c["hash"] for c in changes if c["model"] == "accounts.user"} >= {
        r.history_hash for r in rows_of(member)
    }
    path = tmp_path / "export.json"
    path.write_bytes(export.content)
    call_command("verify_audit", export=str(path))
    # the newest row of a record is removed: its chain still holds, the export shows the loss
    newest = rows_of(member)[-1]
    execute(f"DELETE FROM {HISTORY} WHERE history_id = %s", [newest.history_id])
    assert chain.verify_all()[1] == []
    with pytest.raises(
        CommandError, match=f"accounts.user history row {newest.history_id} of the export: removed"
    ):
        call_command("verify_audit", export=str(path))
    assert chain.ledger_head()[0] != head


def test_the_application_role_cannot_update_or_delete_history(postgres_only):
    """On PostgreSQL the GRANTs of ``audit_grants`` leave the application's role append-only."""
    member = a_member_with_three_rows()
    row = rows_of(member)[0]
    role = f"portal_app_test_{uuid.uuid4().hex[:8]}"
    execute(f'CREATE ROLE "{role}" NOLOGIN')  # rolled back with the test's transaction
    for statement in grant_statements(role, all_tables=True):
        execute(statement)
    assert HISTORY in history_tables()
    execute(f'SET ROLE "{role}"')
    try:
        # the role may write ordinary rows and add history rows (chained) ...
        with transaction.atomic():
            member.full_name = "Chained Person, renamed"
            save_with_history(member, actor=member, reason="Promoted again.", update_fields=["full_name"])
        assert rows_of(member)[-1].history_change_reason == "Promoted again."
        # ... but not rewrite or remove one
        for sql in (
            f"UPDATE {HISTORY} SET history_change_reason = 'rewritten' WHERE history_id = %s",
            f"DELETE FROM {HISTORY} WHERE history_id = %s",
        ):
            with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                execute(sql, [row.history_id])
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            execute(f"TRUNCATE {HISTORY}")
    finally:
        execute("RESET ROLE")
    assert chain.verify_all()[1] == []
