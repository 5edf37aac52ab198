"""Settings for scripts/bench_entitlement.py: the project's, plus the bare view's route."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench_entitlement_urls"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"api_token": "1000000/second"}}  # noqa: F405
