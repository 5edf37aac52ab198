"""Settings for scripts/bench_entitlement.py: the project's, plus the bare view's route, with
DEBUG off as in production (DEBUG keeps every query's text, a cost only the check would pay)."""

from portal.settings import *  # noqa: F403

DEBUG = False
ROOT_URLCONF = "bench_entitlement_urls"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_token": "1000000/second"}}  # noqa: F405
