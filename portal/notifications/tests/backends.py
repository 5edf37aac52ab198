"""E-mail backends for unit tests that make the mail server misbehave."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPDataError(451, b"4.3.0 Try again later")


class RejectingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused(
            {m.to[0]: (550, b"5.1.1 No such mailbox") for m in email_messages}
        )


class CountingBackend(BaseEmailBackend):
    """Counts SMTP sessions; refuses mailboxes named ``bounce…`` (550) and ``busy…`` (451)."""

    sessions = 0
    delivered = []

    def open(self):
        if getattr(self, "_open", False):
            return False
        self._open = True
        CountingBackend.sessions += 1
        return True

    def close(self):
        self._open = False

    def send_messages(self, email_messages):
        for message in email_messages:
            to = message.to[0]
            if to.startswith("bounce"):
                raise smtplib.SMTPRecipientsRefused({to: (550, b"5.1.1 No such mailbox")})
            if to.startswith("busy"):
                raise smtplib.SMTPDataError(451, b"4.3.0 Try again later")
            CountingBackend.delivered.append(to)
        return len(email_messages)
