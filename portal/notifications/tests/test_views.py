"""/notifications/: list, mark read, e-mail settings. Role matrix and query counts."""

import pytest
from django.urls import reverse

from portal.notifications.models import DIGEST_EVENT, Notification
from portal.notifications.tests.helpers import make_row
from portal.tests.factories import agency_user, auditor, portal_admin, vendor_user

pytestmark = pytest.mark.django_db

LIST = "/notifications/"


@pytest.mark.parametrize("make_user", [vendor_user, agency_user, auditor, portal_admin])
def test_every_signed_in_person_has_a_notifications_page(client, make_user):
    user = make_user()
    make_row(user, subject="[FAR-2026-000001] Your request was received")
    client.force_login(user)
    response = client.get(LIST)
    assert response.status_code == 200
    assert "[FAR-2026-000001] Your request was received" in response.content.decode()


@pytest.mark.parametrize(
    "url", [LIST, "/notifications/preferences/", "/notifications/read-all/", "/notifications/1/read/"]
)
def test_anonymous_is_sent_to_sign_in(client, url):
    response = client.get(url) if "read" not in url else client.post(url)
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_list_shows_only_ones_own_newest_first_with_unread_marked(client, officer, colleague):
    read = make_row(officer, subject="Old and read")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    make_row(officer, subject="New and unread")
    make_row(colleague, subject="Someone else's")
    make_row(officer, subject="The digest itself", event=DIGEST_EVENT, read_at=read.created_at)
    client.force_login(officer)
    page = client.get(LIST).content.decode()
    assert "Someone else" not in page
    assert "The digest itself" not in page
    assert page.index("New and unread") < page.index("Old and read")
    assert page.count(">New</span>") == 1
    assert 'aria-label="1 unread"' in page  # the header count


def test_pagination(client, officer):
    for n in range(30):
        make_row(officer, subject=f"Item {n:02d}")
    client.force_login(officer)
    first = client.get(LIST).content.decode()
    assert "Item 29" in first
    assert "Item 04" not in first
    assert "Page 1 of 2" in first
    second = client.get(LIST, {"page": 2}).content.decode()
    assert "Item 04" in second
    assert client.get(LIST, {"page": "nonsense"}).status_code == 200


@pytest.mark.parametrize("rows", [5, 50])
def test_the_list_costs_the_same_number_of_queries_at_any_size(
    client, officer, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        make_row(officer)
    client.force_login(officer)
    with django_assert_max_num_queries(10):
        assert client.get(LIST).status_code == 200


def test_mark_one_read(client, officer):
    row = make_row(officer)
    client.force_login(officer)
    response = client.post(
        reverse("notifications:mark_read", args=[row.pk]), {"next": "/notifications/?page=1"}
    )
    assert response.status_code == 302
    assert response.url == "/notifications/?page=1"
    row.refresh_from_db()
    assert row.read_at is not None


def test_open_marks_read_and_goes_to_the_page(client, officer):
    row = make_row(officer, link="/vendor/requests/FAR-2026-000001/")
    client.force_login(officer)
    response = client.post(reverse("notifications:mark_read", args=[row.pk]), {"open": "1"})
    assert response.status_code == 302
    assert response.url == "/vendor/requests/FAR-2026-000001/"
    row.refresh_from_db()
    assert row.read_at is not None


def test_next_may_not_leave_the_notifications_pages(client, officer):
    row = make_row(officer, link="")
    client.force_login(officer)
    response = client.post(
        reverse("notifications:mark_read", args=[row.pk]), {"next": "https://evil.example/notifications/"}
    )
    assert response.url == "/notifications/"


def test_someone_elses_notification_answers_404(client, officer, colleague):
    row = make_row(officer)
    client.force_login(colleague)
    response = client.post(reverse("notifications:mark_read", args=[row.pk]))
    assert response.status_code == 404
    row.refresh_from_db()
    assert row.read_at is None


def test_marking_read_needs_a_post(client, officer):
    row = make_row(officer)
    client.force_login(officer)
    assert client.get(reverse("notifications:mark_read", args=[row.pk])).status_code == 405
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405


def test_mark_all_read(client, officer, colleague):
    mine = [make_row(officer) for _ in range(3)]
    theirs = make_row(colleague)
    client.force_login(officer)
    response = client.post(reverse("notifications:mark_all_read"), follow=True)
    assert "Marked 3 notifications as read." in response.content.decode()
    assert all(Notification.objects.get(pk=r.pk).read_at for r in mine)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_preferences_page_saves_the_choice(client, officer):
    client.force_login(officer)
    page = client.get("/notifications/preferences/").content.decode()
    assert 'value="immediate" checked' in page
    response = client.post("/notifications/preferences/", {"delivery": "digest"}, follow=True)
    assert "Your notification settings are saved." in response.content.decode()
    assert 'value="digest" checked' in response.content.decode()
    assert officer.notification_preference.delivery == "digest"


def test_preferences_page_explains_a_bad_choice_next_to_the_field(client, officer):
    client.force_login(officer)
    response = client.post("/notifications/preferences/", {"delivery": "weekly"})
    assert response.status_code == 200
    assert "usa-error-message" in response.content.decode()
    assert not hasattr(officer, "notification_preference") or officer.notification_preference is None


def test_preferences_saved_on_a_stale_page_are_refused_and_the_choice_kept(client, officer):
    import re

    # given the page open in two tabs
    client.force_login(officer)
    page = client.get("/notifications/preferences/").content.decode()
    seen = re.search(r'name="record_version" value="([^"]*)"', page).group(1)
    # when the first tab saves "digest" and the second then saves "immediate" on the old page
    assert (
        client.post("/notifications/preferences/", {"delivery": "digest", "record_version": seen}).status_code
        == 302
    )
    response = client.post("/notifications/preferences/", {"delivery": "immediate", "record_version": seen})
    # then the second is refused, naming who changed the settings, and keeps the choice made
    assert response.status_code == 200
    text = response.content.decode()
    assert "Your notification settings changed while you were editing it" in text
    assert officer.email in text
    assert 'value="immediate" checked' in text
    officer.refresh_from_db()
    assert officer.notification_preference.delivery == "digest"


@pytest.mark.parametrize(
    ("make_user", "admin_look"),
    [(vendor_user, False), (agency_user, True), (auditor, True), (portal_admin, True)],
)
def test_officials_read_their_notifications_in_the_agency_dashboards_look(client, make_user, admin_look):
    user = make_user()
    make_row(user, subject="[FAR-2026-000001] Ready for decision")
    client.force_login(user)
    for url in (LIST, "/notifications/preferences/"):
        page = client.get(url).content.decode()
        assert ('id="site-name"' in page) is admin_look, url
        assert ("usa-banner" in page) is not admin_look, url
    assert "[FAR-2026-000001] Ready for decision" in client.get(LIST).content.decode()


@pytest.mark.parametrize("rows", [5, 50])
def test_the_officials_list_costs_the_same_number_of_queries_at_any_size(
    client, official, django_assert_max_num_queries, rows
):
    for _ in range(rows):
        make_row(official)
    client.force_login(official)
    with django_assert_max_num_queries(14):
        assert client.get(LIST).status_code == 200
