"""A local SMTP server for the browser journeys: it keeps every message it accepts.

The journeys read mail only from here (the address, the subject, the text and the links in
it), never from the outbox table: what a person would find in their inbox is what counts.
"""

import email
import re
import socket
import threading
import time
from dataclasses import dataclass
from email import policy

LINK = re.compile(r"https?://[^\s<>\"')]+")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mail:
    """One message as the recipient's mail program would show it."""

    to: list
    subject: str
    text: str
    html: str

    def links(self):
        return LINK.findall(self.text)

    def link(self, containing=""):
        """The first link whose address contains ``containing``."""
        for url in self.links():
            if containing in url:
                return url.rstrip(".,;")
        raise AssertionError(f"no link containing {containing!r} in the mail {self.subject!r}:\n{self.text}")


class Mailbox:
    """An aiosmtpd server on a free port on 127.0.0.1 that records every accepted message."""

    def __init__(self):
        self.lock = threading.Lock()
        self.messages = []
        self.controller = None

    @property
    def port(self):
        return self.controller.port

    def start(self):
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every line
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        mail = Mail(
            to=[address.lower() for address in envelope.rcpt_tos],
            subject=str(message["Subject"] or ""),
            text=text.get_content() if text is not None else "",
            html=html.get_content() if html is not None else "",
        )
        with self.lock:
            self.messages.append(mail)
        return "250 2.0.0 OK"

    def clear(self):
        with self.lock:
            self.messages.clear()

    def to(self, address):
        with self.lock:
            return [m for m in self.messages if address.lower() in m.to]

    def wait_for(self, *, to, subject, timeout=30):
        """The first mail to ``to`` whose subject contains ``subject``; waits for it to arrive."""
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.to(to) if subject.lower() in m.subject.lower()]
            if found:
                return found[0]
            if time.monotonic() > deadline:
                seen = [(m.to, m.subject) for m in self.messages]
                raise AssertionError(
                    f"no mail to {to} with {subject!r} in its subject after {timeout}s; received: {seen}"
                )
            time.sleep(0.1)
