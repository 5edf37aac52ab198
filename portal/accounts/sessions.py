"""Sessions that end after ``SESSION_COOKIE_AGE`` idle (NIST AC-12) without a write per page.

Django's ``SESSION_SAVE_EVERY_REQUEST`` moves the idle deadline by writing the session row on every
request: an ``UPDATE`` in a transaction of its own for each page, image-less API call and form
post. Here the deadline moves when a page is opened more than ``SESSION_REFRESH_SECONDS`` (a
minute) after it last moved, or when the session changes anyway (signing in, a second factor
passed). A person who stops using the portal is therefore signed out between
``SESSION_COOKIE_AGE`` minus a minute and ``SESSION_COOKIE_AGE`` after their last page: a little
early at worst, never late.
"""

import time

from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware

REFRESHED_AT_SESSION_KEY = "_portal_deadline_moved_at"


class IdleTimeoutSessionMiddleware(SessionMiddleware):
    def process_response(self, request, response):
        session = getattr(request, "session", None)
        if session is not None and session.accessed and not session.is_empty():
            now = int(time.time())
            moved_at = session.get(REFRESHED_AT_SESSION_KEY, 0)
            if session.modified or not 0 <= now - moved_at < settings.SESSION_REFRESH_SECONDS:
                session[REFRESHED_AT_SESSION_KEY] = now  # (marks it modified: it is saved)
        return super().process_response(request, response)
