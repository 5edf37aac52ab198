"""``render_emails``: thousands of notices with the same words are rendered about twice, and each
mail is exactly what ``render_email`` makes of its own context."""

import pytest

from portal.notifications import rendering
from portal.notifications.rendering import render_email, render_emails

SHARED = {
    "model": "Aurora Atlas 2.0",
    "vendor": "Aurora & Sons <AI>",
    "vendor_contact": "compliance@aurora.example",
    "date": "March 1, 2026",
    "path": "",
    "link": "",
    "url": "",
    "tracking_number": "",
}


def _context(name, email, customers, subject=None, label=None):
    subject = subject or f"Access to Aurora Atlas 2.0 suspended: {customers}"
    return {
        **SHARED,
        "customers": customers,
        "recipient": {"full_name": name, "email": email},
        "subject": subject,
        "title": subject,
        "object_label": label if label is not None else customers,
    }


CONTEXTS = [
    _context("Ada Security", "ada@northwind.example", "Northwind Energy"),
    _context("Bob O'Brien & Co <sec>", "bob@contoso.example", 'Contoso "Grid" Ltd & Partners'),
    _context("Zoë Müller", "zoe@exämple.org", "Ørsted Ænergi, Čez and 3 more"),
    _context("", "nameless@example.org", "Nameless Customer"),  # the greeting falls back to the address
    _context("Carol", "carol@example.org", "See https://customer.example/about"),  # made a link in HTML
    _context(" Dan ", "dan@example.org", "Spaced"),  # stripped at the end of a line
    _context("Erin", "erin@example.org", "* Bullet Corp"),
    _context("Fay", "fay@example.org", "Two\nLines"),
    _context("Gus", "gus@example.org", "Plain Customer 42"),
]


@pytest.mark.parametrize("event", ["customer_access_suspended", "customer_access_revoked", "no_such_event"])
def test_each_mail_is_what_its_own_render_would_be(event):
    expected = [render_email(event, context) for context in CONTEXTS]
    assert render_emails(event, CONTEXTS) == expected


def test_the_templates_are_rendered_about_twice_for_many_mails(monkeypatch):
    calls = []
    real = rendering.render_email
    monkeypatch.setattr(
        rendering, "render_email", lambda event, context: calls.append(1) or real(event, context)
    )
    contexts = [_context(f"Person {n}", f"p{n}@example.org", f"Customer {n}") for n in range(200)]
    rendered = render_emails("customer_access_suspended", contexts)
    assert len(calls) == 2
    assert rendered[137] == real("customer_access_suspended", contexts[137])


def test_a_template_that_treats_a_value_as_more_than_text_is_rendered_per_mail(monkeypatch, settings):
    # a layout that shows the customers upper-cased: a slot's marker would not survive it
    calls = []
    real = rendering.render_email

    def upper(event, context):
        calls.append(1)
        text, html = real(event, context)
        return text + str(context.get("customers", "")).upper(), html

    monkeypatch.setattr(rendering, "render_email", upper)
    contexts = [_context(f"Person {n}", f"p{n}@example.org", f"Customer {n}") for n in range(5)]
    rendered = render_emails("customer_access_suspended", contexts)
    assert rendered == [upper("customer_access_suspended", c) for c in contexts]
    assert len(calls) == 2 + 5 + 5  # marker, probe, then each mail (and the comparison above)


def test_contexts_that_differ_in_more_than_text_are_rendered_per_mail():
    contexts = [{**_context("A", "a@example.org", "X"), "count": n} for n in range(4)]
    assert render_emails("customer_access_suspended", contexts) == [
        render_email("customer_access_suspended", c) for c in contexts
    ]


@pytest.mark.django_db
def test_many_rows_are_written_at_once_with_their_own_bodies():
    from portal.notifications.models import Notification
    from portal.notifications.services import notify_addresses

    messages = [
        {
            "address": f"sec{n}@customer{n}.example",
            "name": f"Contact\t{n}" if n % 7 == 0 else f"Contact {n}",  # a tab: rendered on its own
            "subject": f'Access to Aurora Atlas 2.0 suspended: Customer {n} \\ "Ltd"',
            "key": "42",
            "object_label": f"Customer {n}",
            "context": {
                **SHARED,
                "customers": f"Customer {n} & Sons\nline two" if n == 3 else f"Customer {n}",
            },
        }
        for n in range(150)
    ]
    ids = notify_addresses(event="customer_access_suspended", messages=messages)
    assert len(ids) == 150
    rows = {row.recipient_email: row for row in Notification.objects.filter(pk__in=ids)}
    assert len(rows) == 150
    for n, message in enumerate(messages):
        row = rows[message["address"]]
        title = " ".join(message["subject"].split())
        text, html = render_email(
            "customer_access_suspended",
            {
                **message["context"],
                "recipient": {"full_name": message["name"], "email": message["address"]},
                "subject": title,
                "title": title,
                "path": "",
                "link": "",
                "url": "",
                "object_label": message["object_label"],
                "tracking_number": "",
            },
        )
        assert (row.body, row.html_body) == (text, html), n
        assert row.subject == title
        assert row.recipient_id is None
        assert row.status == Notification.Status.PENDING
        assert row.context["customers"] == message["context"]["customers"]
        assert row.idempotency_key == f"customer_access_suspended:42:{message['address']}"
    # the same occurrence again writes nothing
    assert notify_addresses(event="customer_access_suspended", messages=messages) == []
