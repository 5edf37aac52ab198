"""Rate limits: per token for integrations, per user for sessions.

A fixed window per token (one counter a minute, say) in the shared cache. Each worker takes its
requests from the counter in small leases (``lease_size``: one request at a time for small
limits, up to 50 for generous ones), so a busy integration costs a round trip to Redis every
few dozen calls rather than on each, as DRF's sliding log did (it read and rewrote the list of
every request's time in the window, 6,000 of them at the default rate). A token never gets
more than its limit in a window; with several workers it may be refused a little early (by at
most the leases the other workers hold). The entitlement check's lean path counts through the
same ``hit``, so a token has one budget across the API. With Redis unreachable each process
counts alone (a token may then get its limit from each worker) rather than refusing every call.
"""

import logging
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import SimpleRateThrottle

from api.models import ApiToken

logger = logging.getLogger(__name__)

SCOPE = "api_token"
CACHE_FORMAT = SimpleRateThrottle.cache_format  # "throttle_%(scope)s_%(ident)s"
LEASE_MAX = 50
# INCRBY, and the window's expiry set with its first lease: one atomic round trip.
COUNT_SCRIPT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return count
"""
COUNTED = "_api_throttle_counted"  # set on the request by a path that already counted it

_alone = {}  # (key, window) -> requests counted by this process while Redis was unreachable
_leases = {}  # (key, window) -> requests this process may still make in that window
_lock = threading.Lock()


def token_key(token_id):
    return CACHE_FORMAT % {"scope": SCOPE, "ident": f"token-{token_id}"}


def lease_size(limit):
    """At most 1 in 200 of the limit per lease: exact for small limits."""
    return max(1, min(LEASE_MAX, limit // 200))


def _take(key, amount, duration):
    """Add ``amount`` to the shared counter ``key``; returns its new total."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full_key, write=True)
        return client.eval(COUNT_SCRIPT, 1, full_key, amount, int(duration) + 1)
    cache.add(key, 0, int(duration) + 1)
    return cache.incr(key, amount)


def hit(key, duration, limit, now=None):
    """Count one request against ``limit`` per window of ``duration`` seconds: returns whether it
    is allowed and the seconds until the window ends."""
    now = time.time() if now is None else now
    window = int(now // duration)
    remaining = (window + 1) * duration - now
    with _lock:
        left = _leases.get((key, window), 0)
        if left > 0:
            _leases[(key, window)] = left - 1
            return True, remaining
    size = lease_size(limit)
    try:
        total = _take(f"{key}:{window}", size, duration)
    except Exception:  # Redis unreachable: this process counts alone, up to the whole limit
        logger.warning("Rate limit counter unreachable: counting in this process.", exc_info=True)
        with _lock:
            total = _alone[(key, window)] = _alone.get((key, window), 0) + size
            if len(_alone) > 10_000:
                _alone.clear()
    granted = min(size, limit - (total - size))
    if granted <= 0:
        return False, remaining
    with _lock:
        if len(_leases) > 10_000:  # windows gone by
            for stale in [k for k in _leases if k[1] != window]:
                del _leases[stale]
        _leases[(key, window)] = _leases.get((key, window), 0) + granted - 1
    return True, remaining


class TokenRateThrottle(SimpleRateThrottle):
    scope = SCOPE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return token_key(request.auth.pk)
        if request.user and request.user.is_authenticated:
            return self.cache_format % {"scope": self.scope, "ident": f"user-{request.user.pk}"}
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        counted = getattr(request._request, COUNTED, None)
        if counted is not None and counted[0] == key:
            _, allowed, self.remaining = counted
        else:
            allowed, self.remaining = hit(key, self.duration, self.num_requests)
        return allowed

    def wait(self):
        return self.remaining
