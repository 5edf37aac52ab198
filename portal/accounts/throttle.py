"""Sign-in throttling: too many failures for one address or from one network address lock
sign-in for a while (NIST AC-7). Counted in the cache, so it works the same on the embedded
default and on Redis. Unknown addresses are counted too, so the lockout reveals nothing.

When the cache is unreachable the throttle is not enforced (and says so in the log): a
Redis outage must delay mail, not lock every official out of the portal. Failed sign-ins
are still recorded in the database either way."""

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)

MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30
WINDOW_SECONDS = 15 * 60


def _keys(email, ip):
    return [
        (f"signin-fail:email:{email}", MAX_FAILURES_PER_EMAIL),
        (f"signin-fail:ip:{ip}", MAX_FAILURES_PER_IP),
    ]


def is_locked(email, ip):
    try:
        return any((cache.get(key) or 0) >= limit for key, limit in _keys(email, ip))
    except Exception:
        logger.warning("Sign-in throttle unavailable (cache unreachable); not enforcing it", exc_info=True)
        return False


def record_failure(email, ip):
    try:
        for key, _ in _keys(email, ip):
            if cache.add(key, 1, timeout=WINDOW_SECONDS):
                continue
            try:
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, timeout=WINDOW_SECONDS)
    except Exception:
        logger.warning("Sign-in throttle could not count a failure (cache unreachable)", exc_info=True)


def clear(email):
    try:
        cache.delete(f"signin-fail:email:{email}")
    except Exception:
        logger.warning("Sign-in throttle could not be cleared (cache unreachable)", exc_info=True)


def client_ip(request):
    return request.META.get("REMOTE_ADDR") or None
