"""notify(): what it writes, what it renders and when it sends."""

from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from portal.notifications import sending, services
from portal.notifications.models import (
    ALWAYS_IMMEDIATE_EVENTS,
    DIGEST_EVENT,
    Notification,
    NotificationPreference,
)
from portal.notifications.tasks import send_batch
from portal.tests.factories import vendor_user

pytestmark = pytest.mark.django_db


def _notify(recipients, **kwargs):
    arguments = {
        "event": "example_event",
        "recipients": recipients,
        "subject": "Your access request was received",
        "context": {"summary": "We received the request for Orion 2 by Acme Bank."},
        "link": "/vendor/requests/FAR-2026-000123/",
        "key": "request:123:submitted",
        "tracking_number": "FAR-2026-000123",
    }
    arguments.update(kwargs)
    return services.notify(**arguments)


@pytest.fixture
def event_templates(settings, tmp_path):
    """An app's own templates for two events, found ahead of the generic one."""
    folder = tmp_path / "notifications" / "email"
    folder.mkdir(parents=True)
    (folder / "decision_approved.txt").write_text(
        "{% extends email_layout %}{% block body %}"
        "Approved for {{ customer }} with {{ conditions|length }} conditions.{% endblock %}"
    )
    (folder / "position_signed.txt").write_text("{{ agency }} signed its position on {{ tracking_number }}.")
    (folder / "old_style.txt").write_text(
        '{% extends "notifications/email/base.txt" %}{% block body %}Only text.{% endblock %}'
    )
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]


def test_notify_writes_one_row_per_active_recipient_and_sends_after_commit(
    officer, colleague, django_capture_on_commit_callbacks
):
    inactive = vendor_user(organisation=officer.organisation, is_active=False)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        rows = _notify([officer, colleague, officer, inactive, None])
        # nothing is sent inside the transaction
        assert mail.outbox == []
    assert len(callbacks) == 1
    assert {n.recipient for n in rows} == {officer, colleague}
    assert sorted(m.to[0] for m in mail.outbox) == sorted([officer.email, colleague.email])
    for row in Notification.objects.all():
        assert row.status == Notification.Status.SENT
        assert row.sent_at is not None
        assert row.attempts == 1
        assert row.idempotency_key == f"example_event:request:123:submitted:{row.recipient_id}"


def test_notify_twice_for_the_same_occurrence_writes_and_sends_nothing_new(
    officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _notify([officer])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = _notify([officer], subject="Something else")
    assert again == []
    assert callbacks == []
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_notify_writes_its_rows_in_one_insert_and_skips_a_key_written_meanwhile(
    officer, django_assert_num_queries
):
    other = vendor_user(organisation=officer.organisation, email="second@acme.example")
    # the recipients' rows go in one statement (before: a look-up, a get and an insert in a
    # savepoint for each person)
    with django_assert_num_queries(5):  # digest choices, keys written, savepoint, insert, release
        rows = _notify([officer, other], key="request:7:submitted")
    assert sorted(r.recipient_id for r in rows) == sorted([officer.pk, other.pk])
    # a notify racing another that wrote one of its keys after it looked: the one insert fails on
    # the unique key, and the rows go one at a time, skipping the one already written
    real_filter = Notification.objects.filter

    def looked_too_early(*args, **kwargs):
        if "idempotency_key__in" in kwargs:
            return Notification.objects.none()
        return real_filter(*args, **kwargs)

    Notification.objects.filter(recipient=other).delete()
    with mock.patch.object(Notification.objects, "filter", side_effect=looked_too_early):
        again = _notify([officer, other], key="request:7:submitted", subject="Something else")
    assert [r.recipient_id for r in again] == [other.pk]
    assert Notification.objects.filter(recipient=officer).count() == 1
    assert "Something else" not in Notification.objects.get(recipient=officer).subject


def test_rolled_back_change_leaves_no_notification_and_sends_nothing(
    officer, django_capture_on_commit_callbacks
):
    def change_that_fails():
        with transaction.atomic():
            _notify([officer])
            raise RuntimeError("the business change failed")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        change_that_fails()
    assert Notification.objects.count() == 0
    assert mail.outbox == []


def test_subject_carries_the_tracking_number_once(officer):
    (row,) = _notify([officer])
    assert row.subject == "[FAR-2026-000123] Your access request was received"
    assert row.object_label == "FAR-2026-000123"
    (named,) = _notify([officer], key="other", subject="Decision on FAR-2026-000123: approved")
    assert named.subject == "Decision on FAR-2026-000123: approved"


def test_object_label_stands_in_for_a_tracking_number(officer):
    (row,) = _notify([officer], tracking_number="", object_label="Orion 2")
    assert row.subject.startswith("[Orion 2] ")


def test_email_has_plain_text_and_html_with_the_absolute_link(
    officer, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portal.example.gov"
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = _notify([officer], context={"summary": "R&D <team> asked"})
    (message,) = mail.outbox
    url = "https://portal.example.gov/vendor/requests/FAR-2026-000123/"
    assert url in message.body
    assert "Hello Vera Officer," in message.body
    # plain text is not HTML-escaped; the HTML is
    assert "R&D <team> asked" in message.body
    (html, mimetype) = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{url}"' in html
    assert "R&amp;D &lt;team&gt; asked" in html
    assert "FAR-2026-000123" in html
    assert row.link == "/vendor/requests/FAR-2026-000123/"


def test_mail_headers_identify_the_notification_for_downstream_deduplication(
    officer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = _notify([officer])
    message = mail.outbox[0].message()
    assert message["X-Portal-Notification"] == row.idempotency_key
    assert message["Message-ID"] == sending.message_id_for(row)
    # stable: the same row always gets the same Message-ID
    assert sending.message_id_for(Notification.objects.get(pk=row.pk)) == message["Message-ID"]


def test_event_templates_of_other_apps_are_used_ahead_of_the_generic_ones(officer, event_templates):
    (row,) = _notify([officer], event="decision_approved", context={"customer": "A&B", "conditions": [1, 2]})
    # one template: the same words in the text and (escaped, as a paragraph) in the HTML
    assert "Approved for A&B with 2 conditions." in row.body
    assert ">Approved for A&amp;B with 2 conditions.</p>" in row.html_body
    # the layout still wraps it: greeting, link, footer
    assert "Hello Vera Officer," in row.body
    assert "/vendor/requests/FAR-2026-000123/" in row.body
    assert "automated message" in row.html_body


def test_a_fragment_event_template_is_put_inside_the_layout(officer, event_templates, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.gov"
    (row,) = _notify([officer], event="position_signed", context={"agency": "R&D Office"})
    # the fragment, unescaped in text, then the layout's absolute link, reference and footer
    assert row.body.startswith("R&D Office signed its position on FAR-2026-000123.\n")
    assert "https://portal.example.gov/vendor/requests/FAR-2026-000123/" in row.body
    assert "Reference: FAR-2026-000123" in row.body
    assert "replies are not read" in row.body
    # in HTML the same words, escaped, inside the layout with its absolute link
    assert ">R&amp;D Office signed its position on FAR-2026-000123.</p>" in row.html_body
    assert 'href="https://portal.example.gov/vendor/requests/FAR-2026-000123/"' in row.html_body
    assert row.html_body.lstrip().startswith("<!DOCTYPE html>")


def test_an_event_template_that_names_the_text_layout_is_refused(officer, event_templates):
    # its words could not be rendered into the HTML layout
    with pytest.raises(
        ImproperlyConfigured, match=r"old_style\.txt must start with \{% extends email_layout %\}"
    ):
        _notify([officer], event="old_style")


def test_context_stored_on_the_row_keeps_only_plain_values(officer):
    (row,) = _notify([officer], context={"summary": "s", "count": 3, "customer": officer})
    assert row.context == {"summary": "s", "count": 3}


def test_broker_down_at_commit_leaves_rows_pending_and_the_commit_stands(
    officer, colleague, django_capture_on_commit_callbacks, caplog
):
    # given a broker that refuses connections
    with (
        mock.patch.object(
            send_batch, "apply_async", side_effect=OperationalError("Connection refused")
        ) as apply_async,
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        # when the change and its notifications commit
        officer.full_name = "Vera Changed"
        officer.save(update_fields=["full_name"])
        _notify([officer, colleague])
    # then the change stands, both rows wait for the sweep, and one try was enough to stop
    officer.refresh_from_db()
    assert officer.full_name == "Vera Changed"
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.PENDING}
    assert apply_async.call_count == 1
    assert "left for the outbox sweep" in caplog.text
    assert mail.outbox == []


def test_failing_smtp_in_eager_mode_does_not_raise_out_of_on_commit(
    officer, failing_smtp, django_capture_on_commit_callbacks
):
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        (row,) = _notify([officer])
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING
    assert row.attempts == 1
    assert "SMTPDataError" in row.last_error
    assert row.available_at >= before


def test_routine_events_wait_for_the_digest_when_the_recipient_chose_it(officer, colleague):
    NotificationPreference.objects.create(user=officer, delivery=NotificationPreference.Delivery.DIGEST)
    rows = {n.recipient: n for n in _notify([officer, colleague])}
    assert rows[officer].status == Notification.Status.DIGEST
    assert rows[officer].immediate is False
    assert rows[colleague].status == Notification.Status.PENDING


@pytest.mark.parametrize("event", sorted(ALWAYS_IMMEDIATE_EVENTS))
def test_decisions_enforcement_and_deadlines_are_always_immediate(officer, event):
    NotificationPreference.objects.create(user=officer, delivery=NotificationPreference.Delivery.DIGEST)
    (row,) = _notify([officer], event=event, immediate=False)
    assert row.status == Notification.Status.PENDING
    assert row.immediate is True


def test_a_caller_may_mark_a_routine_event_as_digest_only(officer):
    (row,) = _notify([officer], immediate=False)
    assert row.status == Notification.Status.DIGEST


def test_always_immediate_events_include_the_required_ones():
    required = {
        "decision_approved",
        "decision_denied",
        "intent_to_deny",
        "model_suspended",
        "model_suspension_lifted",
        "grant_revoked",
        "vendor_designated",
        "vendor_designation_rescinded",
        "referral_due_soon",
        "referral_overdue",
        "information_request_issued",
        "grant_expiring",
        "password_reset",
    }
    assert required <= ALWAYS_IMMEDIATE_EVENTS
    assert DIGEST_EVENT not in ALWAYS_IMMEDIATE_EVENTS


def test_the_html_heading_is_the_subject_without_the_bracketed_reference(officer):
    (row,) = _notify([officer], context={})
    assert ">Your access request was received</h1>" in row.html_body
    assert "Reference: <strong" in row.html_body
    # without a summary the body does not repeat the subject; the text falls back to it
    assert row.html_body.count("Your access request was received") == 2  # <title> and <h1>
    assert "[FAR-2026-000123] Your access request was received" in row.body
