"""The entitlement answers kept in Redis, and cleared by every change that could alter one.

An answer depends on rows of a few models (``watched_models``: the token and its creator, the vendor
and its organisation, the model, the customer, the grants with their conditions and agencies,
the enforcement actions, the decisions). Every write of one of them leaves a history row, and
``portal.audit.history.watch_history`` tells this module of each, inside the writing
transaction; the conditions of a grant (a many-to-many without history) are watched by
``m2m_changed``. Either way the *generation*, one Redis counter, is incremented once the
transaction commits (``transaction.on_commit``; a rolled-back change leaves it), so by the time
a service call returns, no answer from before it is served again.

An answer is stored with the generation read *before* the database was: ``MGET`` of the
generation and the entry is the one round trip of a repeated check, and an entry whose
generation is not the current one is ignored (then overwritten). An entry also ends at the
next local midnight (a grant's validity is counted in days) and at the token's expiry, and
after ``API_ENTITLEMENT_CACHE_SECONDS`` in any case, which bounds what a lost increment could
leave (Redis unreachable at the moment of a commit: logged; Redis restored from a snapshot older
than the last increments). A write that left no history row (a bare ``queryset.update()`` of a
watched model) would not be seen: services write through the history layer, and
``approvals.services.grants._set_grants``'s ``UPDATE`` writes its history rows at once.

With Redis down, or with another cache than Redis (one process's memory could not hear another's
changes), nothing is cached and every check reads the database.
"""

import hashlib
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models.signals import m2m_changed
from django.utils import timezone

logger = logging.getLogger(__name__)

GENERATION = "entitlement:generation"
ENTRY = "entitlement:answer:"


_memo = [None, None, None]  # [cache, client, generation key]: a Redis client is made once


def _redis():
    """``(client, generation key)`` of the default cache when it is Redis and answers are kept."""
    if not settings.API_ENTITLEMENT_CACHE_SECONDS:
        return None, None
    cache = caches["default"]
    if _memo[0] is not cache:
        if not isinstance(cache, RedisCache):
            return None, None
        _memo[:] = [cache, cache._cache.get_client(write=True), cache.make_key(GENERATION)]
    return _memo[1], _memo[2]


def _entry_key(key):
    return _memo[0].make_key(key)


def _incr(using):
    try:
        client, key = _redis()
        if client is None:
            return
        # a counter lost (Redis emptied, the key evicted) restarts above any value it had
        pipe = client.pipeline(transaction=False)
        pipe.set(key, time.time_ns(), nx=True)
        pipe.incr(key)
        pipe.execute()
    except Exception:  # a lost increment: entries end within API_ENTITLEMENT_CACHE_SECONDS
        logger.exception("The entitlement generation could not be incremented.")


class _Increment:
    """One pending increment: registered once per transaction (a change of a thousand rows costs
    one), again once it has run or its transaction (or savepoint) was rolled back."""

    __slots__ = ("done", "using")

    def __init__(self, using):
        self.using, self.done = using, False

    def __call__(self):
        self.done = True
        _incr(self.using)


def changed(using=DEFAULT_DB_ALIAS, **kwargs):
    """Every answer kept is stale once the current transaction commits (at once outside one)."""
    if not settings.API_ENTITLEMENT_CACHE_SECONDS or not isinstance(caches["default"], RedisCache):
        return  # nothing is kept
    connection = connections[using]
    if connection.in_atomic_block and any(
        isinstance(func, _Increment) and not func.done for _, func, _ in connection.run_on_commit
    ):
        return
    transaction.on_commit(_Increment(using), using=using)


def _m2m_changed(sender, action, using, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        changed(using)


def watched_models():
    from api.models import ApiToken
    from approvals.models import Agency, Condition, Decision, EnforcementAction, Grant
    from portal.accounts.models import Organisation, User
    from vendors.models import FrontierModel, PartnerCustomer, Vendor

    return (
        ApiToken,
        User,
        Organisation,
        Vendor,
        FrontierModel,
        PartnerCustomer,
        Grant,
        Condition,
        Agency,
        EnforcementAction,
        Decision,
    )


def connect():
    """Called once by the app's ``ready()``."""
    from approvals.models import Grant
    from portal.audit.history import watch_history

    for model in watched_models():
        watch_history(model, changed)
    m2m_changed.connect(_m2m_changed, sender=Grant.conditions.through, dispatch_uid="entitlement_cache")


def key(digest, model, customer):
    """The entry of a token (by its digest) and a pair as asked."""
    return ENTRY + hashlib.sha256(f"{digest}\0{model}\0{customer}".encode()).hexdigest()


class Lookup:
    """What ``lookup`` found: the generation (``None``: do not store) and the entry, if current."""

    __slots__ = ("body", "generation", "key", "last_used_at", "token_id")

    def __init__(self, key, generation=None):
        self.key, self.generation = key, generation
        self.token_id = self.last_used_at = self.body = None


def lookup(entry_key):
    """The generation and the current entry under ``entry_key``, in one round trip."""
    found = Lookup(entry_key)
    try:
        client, generation_key = _redis()
        if client is None:
            return found
        generation, entry = client.mget([generation_key, _entry_key(entry_key)])
        if generation is None:
            client.set(generation_key, time.time_ns(), nx=True)
            return found
    except Exception:
        logger.warning("The entitlement cache is unreachable: answering from the database.", exc_info=True)
        return found
    found.generation = int(generation)
    if entry is not None:
        stored, until, token_id, last_used, body = entry.split(b"|", 4)
        if int(stored) == found.generation and time.time() < float(until):
            found.token_id = int(token_id)
            found.last_used_at = last_used.decode() or None  # ISO 8601
            found.body = body
    return found


def store(found, token, body, now):
    """Keep ``body`` (the answer for ``token`` and the pair) under the generation read before."""
    if found.generation is None:
        return
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    midnight = timezone.make_aware(datetime.combine(tomorrow, datetime.min.time()))
    until = min(midnight, token.expires_at).timestamp()
    seconds = min(settings.API_ENTITLEMENT_CACHE_SECONDS, until - time.time())
    if seconds <= 0:
        return
    last_used = token.last_used_at.isoformat() if token.last_used_at else ""
    value = f"{found.generation}|{until!r}|{token.pk}|{last_used}|".encode() + body
    try:
        client, _ = _redis()
        client.set(_entry_key(found.key), value, px=max(1, int(seconds * 1000)))
    except Exception:
        logger.warning("The entitlement cache is unreachable: the answer is not kept.", exc_info=True)
