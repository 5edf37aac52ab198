"""Sign-in throttling: too many failures for one address or from one network address lock
sign-in for a while (NIST AC-7). Counted in the cache, so it works the same on the embedded
default and on Redis. Unknown addresses are counted too, so the lockout reveals nothing."""

from django.core.cache import cache

MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_IP = 30
WINDOW_SECONDS = 15 * 60


def _keys(email, ip):
    return [
        (f"signin-fail:email:{email}", MAX_FAILURES_PER_EMAIL),
        (f"signin-fail:ip:{ip}", MAX_FAILURES_PER_IP),
    ]


def is_locked(email, ip):
    return any((cache.get(key) or 0) >= limit for key, limit in _keys(email, ip))


def record_failure(email, ip):
    for key, _ in _keys(email, ip):
        if cache.add(key, 1, timeout=WINDOW_SECONDS):
            continue
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout=WINDOW_SECONDS)


def clear(email):
    cache.delete(f"signin-fail:email:{email}")


def client_ip(request):
    return request.META.get("REMOTE_ADDR") or None
