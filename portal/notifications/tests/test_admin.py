"""The outbox in the agency dashboard: portal administrators see failures and retry them."""

import pytest

from portal.accounts.models import Role
from portal.notifications.models import Notification
from portal.notifications.tests.helpers import make_row
from portal.tests.factories import agency_user, auditor, portal_admin

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notifications/notification/"


@pytest.fixture
def failed(officer):
    return make_row(
        officer, status="failed", attempts=8, last_error="SMTPDataError: (451, 'Try again later')"
    )


def test_a_portal_administrator_sees_failed_notifications_with_their_error(client, failed):
    client.force_login(portal_admin())
    response = client.get(CHANGELIST, {"status__exact": "failed"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "SMTPDataError" in page
    assert "retry_selected" in page
    detail = client.get(f"{CHANGELIST}{failed.pk}/change/")
    assert detail.status_code == 200
    assert "Try again later" in detail.content.decode()


def test_the_list_warns_when_notifications_failed(client, failed):
    client.force_login(portal_admin())
    page = client.get(CHANGELIST).content.decode()
    assert "1 notification(s) failed." in page


def test_the_retry_action_sends_again_through_the_service(client, failed, django_capture_on_commit_callbacks):
    admin = portal_admin()
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST, {"action": "retry_selected", "_selected_action": [failed.pk]}, follow=True
        )
    assert "Queued 1 notification(s) to be sent again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Notification.Status.SENT
    assert failed.retried_by == admin


def test_retrying_a_notification_that_has_not_failed_is_refused(client, officer):
    sent = make_row(officer, status="sent")
    client.force_login(portal_admin())
    response = client.post(
        CHANGELIST, {"action": "retry_selected", "_selected_action": [sent.pk]}, follow=True
    )
    assert "Only a failed notification can be retried" in response.content.decode()


def test_an_auditor_reads_but_cannot_retry(client, failed):
    client.force_login(auditor())
    page = client.get(CHANGELIST).content.decode()
    assert "SMTPDataError" in page
    assert "retry_selected" not in page
    client.post(CHANGELIST, {"action": "retry_selected", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.status == Notification.Status.FAILED


def test_nobody_edits_or_deletes_a_row_by_hand(client, failed):
    client.force_login(portal_admin())
    page = client.get(f"{CHANGELIST}{failed.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{failed.pk}/delete/").status_code == 403


@pytest.mark.parametrize("role", [Role.AGENCY_REVIEWER, Role.AGENCY_APPROVER])
def test_agency_officials_do_not_see_the_outbox(client, failed, role):
    client.force_login(agency_user(role=role))
    assert client.get(CHANGELIST).status_code == 403
    assert "notifications/notification" not in client.get("/admin/").content.decode()


def test_vendors_never_reach_the_admin(client, failed, officer):
    client.force_login(officer)
    assert client.get(CHANGELIST).status_code in {302, 404}
