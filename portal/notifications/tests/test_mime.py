"""The worker writes each mail's bytes itself (``portal.notifications.mime``): they must be the
bytes Django's SMTP backend would have sent, header for header and boundary for boundary."""

import random
from copy import deepcopy

import pytest
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.message import sanitize_address

from portal.notifications import mime

LONG_SUBJECT = "Access to Aurora Atlas 2.0 suspended: " + ", ".join(f"Customer {n}" for n in range(30))


def _mails():
    body = (
        "Hello Ada,\n\nA new referral for DOC: FAR-2024-000001.\n\nOpen it: https://portal.example/admin/\n"
    )
    plain = EmailMultiAlternatives("New referral", body, to=["ada@doc.example"])
    html = EmailMultiAlternatives(
        "[FAR-2024-000001] New referral for DOC",
        body,
        to=["Ada Official <ada@doc.example>"],
        headers={
            "Message-ID": "<notification.0123456789abcdef0123456789abcdef01234567@portal.example>",
            "X-Portal-Notification": "referral_received:42:7",
            "X-Portal-Event": "referral_received",
        },
    )
    html.attach_alternative("<p>Hello Ada,</p><p>A new referral.</p>", "text/html")
    accented = EmailMultiAlternatives(
        "Décision: approuvée — Zoë's «request»  (two  spaces)\t",
        "Bonjour Zoë,\n\nVotre demande est approuvée. ✓\n",
        from_email="Portail Frontière <no-reply@portal.example>",
        to=["Zoë Müller <zoe@exämple.org>"],
    )
    accented.attach_alternative("<p>Bonjour Zoë — ✓</p>", "text/html")
    long_lines = EmailMultiAlternatives(
        LONG_SUBJECT, "x" * 2500 + "\n" + "y " * 800, to=["sec@customer.example"]
    )
    long_lines.attach_alternative("<p>" + "z" * 1200 + "</p>", "text/html")
    attached = EmailMessage("Your letter", "The letter is attached.\n", to=["vera@aurora.example"])
    attached.attach("letter.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 4, "application/pdf")
    attached.attach("notes.txt", "Plain notes, ünïcode.\n", "text/plain")
    # a part ending in a line that is the boundary the generator will draw first (with CRLF line
    # ends, only a line at the very end is one the standard library's search recognises)
    token = random.Random(7).randrange(2**63 - 1)
    colliding = EmailMultiAlternatives("Boundary", "still text\n", to=["a@b.example"])
    colliding.attach_alternative(f"<p>x</p>\n--{'=' * 15}{token:019d}==", "text/html")
    return [plain, html, accented, long_lines, attached, colliding]


@pytest.mark.parametrize("index", range(6))
def test_the_bytes_are_djangos_bytes(index):
    tree = _mails()[index].message()  # (its Date and Message-ID are drawn once, here)
    copy = deepcopy(tree)
    random.seed(7)  # the boundary is random: the same draw for both
    expected = tree.as_bytes(linesep="\r\n")
    random.seed(7)
    written = mime.as_bytes(copy)
    assert written == expected


def test_a_boundary_found_in_the_body_is_not_used():
    tree = _mails()[5].message()
    random.seed(7)
    written = mime.as_bytes(tree)
    first = f"{'=' * 15}{random.Random(7).randrange(2**63 - 1):019d}=="  # the first draw
    assert f'boundary="{first}"'.encode() not in written
    assert f'boundary="{first}.0"'.encode() in written


@pytest.mark.parametrize(
    "address", ["ada@doc.example", "Ada Official <ada@doc.example>", "Zoë <zoe@exämple.org>"]
)
def test_addresses_are_sanitised_as_django_does(address):
    assert mime.sanitized_address(address, "utf-8") == sanitize_address(address, "utf-8")


def _notification_mail(subject, body, html, to="vera@aurora.example", **headers):
    mail = EmailMultiAlternatives(
        subject,
        body,
        to=[to],
        headers={
            "Message-ID": "<notification.0123456789abcdef0123456789abcdef01234567@portal.example>",
            "X-Portal-Notification": "referral_received:42:7",
            "X-Portal-Event": "referral_received",
            **headers,
        },
    )
    if html is not None:
        mail.attach_alternative(html, "text/html")
    return mail


BODY = "Hello Vera,\n\nA new referral for DOC: FAR-2024-000001.\n\n* first\n  more\n\nOpen it: https://portal.example/\n"
USUAL = [
    _notification_mail(
        "[FAR-2024-000001] New referral for DOC", BODY, "<p>Hello Vera,</p>\n<p>A referral.</p>"
    ),
    _notification_mail("x" * 69, BODY, "<p>x</p>"),  # the longest subject that fits its line
    _notification_mail("Unicode body", "Grüße, Zoë ✓\r\nsecond line\rthird\n", "<p>Grüße ✓</p>"),
    _notification_mail("No newline at the end", "just text", "<p>html</p>"),
    _notification_mail("Long but fine lines", "a" * 998 + "\n", "<p>" + "b" * 990 + "</p>"),
    _notification_mail("A very long Message-ID", BODY, "<p>x</p>", **{"X-Extra": "y" * 120}),
]
OTHER = [
    _notification_mail("y" * 70, BODY, "<p>x</p>"),  # the subject is folded
    _notification_mail("Zoë's subject", BODY, "<p>x</p>"),  # encoded
    _notification_mail("Two  spaces", BODY, "<p>x</p>"),
    _notification_mail("Too long a line", "a" * 999, "<p>x</p>"),  # quoted-printable
    _notification_mail("Plain only", BODY, None),
    _notification_mail("To a name", BODY, "<p>x</p>", to="Zoë Müller <zoe@exämple.org>"),
]


@pytest.fixture
def fixed_date(monkeypatch):
    import django.core.mail.message

    date = "Sun, 29 Nov 2026 08:00:00 -0000"
    monkeypatch.setattr(django.core.mail.message, "formatdate", lambda localtime=False: date)
    monkeypatch.setattr(mime, "formatdate", lambda localtime=False: date)


@pytest.mark.parametrize("index", range(len(USUAL) + len(OTHER)))
def test_a_notification_mail_is_written_as_django_writes_it(fixed_date, index):
    mail = (USUAL + OTHER)[index]
    random.seed(11)
    expected = mail.message().as_bytes(linesep="\r\n")
    random.seed(11)
    assert mime.message_bytes(mail) == expected
    # the usual shape is written directly, anything else through Django's message()
    assert (mime._usual_shape(mail) is not None) == (index < len(USUAL))
