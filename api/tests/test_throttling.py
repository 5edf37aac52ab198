"""The per-token rate limit: a fixed window counted in leases, never more than the limit."""

import pytest

from api import throttling


@pytest.mark.parametrize("limit", [3, 400, 20_000])
def test_workers_leasing_from_one_counter_never_pass_the_limit(limit, monkeypatch):
    # given three workers (each its own leases) sharing one counter
    workers = [{}, {}, {}]
    allowed = 0
    for n in range(limit + 200):
        monkeypatch.setattr(throttling, "_leases", workers[n % 3])
        allowed += throttling.hit(f"test-{limit}", 60, limit, now=120.0)[0]
    # then the window's total stays within the limit, short of it by at most the others' leases
    assert limit - 2 * throttling.lease_size(limit) <= allowed <= limit
    # and the next window starts afresh
    assert throttling.hit(f"test-{limit}", 60, limit, now=180.0) == (True, 60.0)


def test_small_limits_are_counted_one_request_at_a_time():
    assert throttling.lease_size(3) == 1
    assert throttling.lease_size(6000) == 30
    assert throttling.lease_size(10**9) == throttling.LEASE_MAX
