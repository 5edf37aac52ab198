"""Settings for the Frontier Access Portal, read from the environment (12-factor).

With nothing set, the portal runs on an embedded default that needs nothing installed:
SQLite under ``var/``, Celery tasks run in-process, e-mail written to files under
``var/mail/``. ``DATABASE_URL``, ``REDIS_URL`` and ``EMAIL_URL`` switch the same code to
PostgreSQL, Redis and a real mail server. ``PORTAL_ENV=production`` turns on the
production safeguards and refuses to start without a secret key.
"""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from portal.observability.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

PORTAL_ENV = env.str("PORTAL_ENV", default="development")
PRODUCTION = PORTAL_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env.str("SECRET_KEY", default="")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "PORTAL_ENV=production needs SECRET_KEY set to a random value of at least 50 characters."
        )
else:
    SECRET_KEY = env.str("SECRET_KEY", default="insecure-development-key-never-use-in-production")

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
# Test-only switch (issue 11): the backup test seeds the demo world in a subprocess, and PBKDF2
# costs half a second per demo person; with PORTAL_TEST_FAST_PASSWORD_HASHES=1 that subprocess
# hashes as the test session does (conftest.py). Never read in production.
if not PRODUCTION and env.bool("PORTAL_TEST_FAST_PASSWORD_HASHES", default=False):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=[] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_FAILURE_VIEW = "portal.error_pages.csrf_failure"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "guardian",
    "simple_history",
    "django_celery_beat",
    "django_otp",
    "axes",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "portal",
    "portal.accounts",
    "portal.audit",
    "portal.notifications",
    "portal.jobs",
    "vendors",
    "approvals",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    # First: every later line of a request's work logs with its id.
    "portal.observability.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's, with the idle deadline moved at most once a minute instead of a write per page.
    "portal.accounts.sessions.IdleTimeoutSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.accounts.mfa_views.SecondFactorMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out sign-in into the sign-in page with the pause explained.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.portal",
            ],
            "builtins": [
                "portal.templatetags.portal_tags",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)


def _database_url():
    """DATABASE_URL; else one built from POSTGRES_* (as docker-compose passes them); else SQLite."""
    url = env.str("DATABASE_URL", default="")
    if url:
        return url
    password = env.str("POSTGRES_PASSWORD", default="")
    if password:
        from urllib.parse import quote

        return "postgres://{}:{}@{}:{}/{}".format(
            quote(env.str("POSTGRES_USER", default="portal"), safe=""),
            quote(password, safe=""),
            env.str("POSTGRES_HOST", default="db"),
            env.int("POSTGRES_PORT", default=5432),
            quote(env.str("POSTGRES_DB", default="portal"), safe=""),
        )
    return f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"


DATABASES = {"default": env.db_url_config(_database_url())}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # A write transaction takes the write lock when it begins: a transaction that began reading
    # and then wrote while another wrote failed at once with "database is locked" (a 10,000-row
    # import while the officer opened another page). Readers go on while one writes (WAL).
    DATABASES["default"]["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    DATABASES["default"]["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL;")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses every attempt while the account is locked out (portal/accounts/lockout.py).
    "portal.accounts.lockout.LockoutBackend",
    # Django's ModelBackend, reading the person's organisation with them (a session signed in
    # under django.contrib.auth.backends.ModelBackend, before this, is asked to sign in again).
    "portal.accounts.backends.ModelBackendWithOrganisation",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/accounts/home/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# Issue 13: a second factor (TOTP, recovery codes) for officials, auditors, operators and vendor
# compliance admins/officers; asked again before sensitive verbs after PORTAL_MFA_REAUTH_SECONDS.
# On by default (production and the embedded default, whose demo logins have seeded
# authenticators: `python manage.py demo_codes`); the unit tests switch it off in conftest.py.
PORTAL_REQUIRE_MFA = env.bool("PORTAL_REQUIRE_MFA", default=True)
# Letters are stored with their PDF when issued (WeasyPrint). Off, or without WeasyPrint's
# system libraries, a letter is stored as its page and the PDF is made from it on download.
LETTERS_PDF = env.bool("LETTERS_PDF", default=True)
PORTAL_MFA_REAUTH_SECONDS = env.int("PORTAL_MFA_REAUTH_SECONDS", default=15 * 60)
OTP_TOTP_ISSUER = "Frontier Access Portal"
# Passkeys (django-otp-webauthn, portal/accounts/passkeys.py): a second factor only, never
# passwordless. The relying party id is the served host unless PORTAL_WEBAUTHN_RP_ID fixes it;
# the accepted origins are these plus the portal's own (the browser binds a passkey to its site).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = "Frontier Access Portal"
OTP_WEBAUTHN_RP_ID_CALLABLE = "portal.accounts.passkeys.rp_id"
OTP_WEBAUTHN_HELPER_CLASS = "portal.accounts.passkeys.PortalWebAuthnHelper"
PORTAL_WEBAUTHN_RP_ID = env.str("PORTAL_WEBAUTHN_RP_ID", default="")
# (Passkeys need a secure context: https, or http on localhost; another base URL is not offered.)
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "PORTAL_WEBAUTHN_ORIGINS",
    default=[PORTAL_BASE_URL]
    if PORTAL_BASE_URL.startswith(("https://", "http://localhost"))
    else ["http://localhost:8000"],
)
# Accept the code of the current half-minute or the one either side, and never "learn" a drift
# (a drift learned from a slow phone would make the next on-time code fail).
OTP_TOTP_SYNC = False
# Sign-in lockout (django-axes, database-backed: holds when Redis is down). By account; by client
# address too only with PORTAL_LOCKOUT_BY_IP, the address read through PORTAL_TRUSTED_PROXIES
# reverse proxies (0: REMOTE_ADDR, X-Forwarded-For ignored). See portal/accounts/lockout.py.
PORTAL_TRUSTED_PROXIES = env.int("PORTAL_TRUSTED_PROXIES", default=0)
AXES_FAILURE_LIMIT = env.int("PORTAL_SIGN_IN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = (
    ["username", "ip_address"] if env.bool("PORTAL_LOCKOUT_BY_IP", default=False) else ["username"]
)
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"  # the sign-in form's field (the e-mail address, lower-cased)
AXES_CLIENT_IP_CALLABLE = "portal.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.accounts.lockout.lockout_response"
AXES_DISABLE_ACCESS_LOG = True  # successes are in SignInEvent already
AXES_ENABLE_ADMIN = False  # locks are lifted through the user's page (with history), not by deleting rows
AXES_VERBOSE = False
# axes.W006 warns that locking by username alone can be dodged by rotating user agents; axes sums
# an account's failures over every address and agent (AxesDatabaseHandler.get_failures), and
# locking by address would lock out everyone behind a proxy: the account is what is protected.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Password-reset requests: per account and per client address per hour (nothing revealed either way).
PORTAL_PASSWORD_RESETS_PER_ACCOUNT = 3
PORTAL_PASSWORD_RESETS_PER_ADDRESS = 10
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# History reasons carry a legal basis or a person's explanation: no 100-character limit.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# django-guardian: strict object permissions, no anonymous user, 404 on deny.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_404 = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# The build compresses every static file twice (gzip and Brotli) except these: WhiteNoise's
# list of formats that are compressed already, and source maps, which only a developer's tools
# fetch (5.3 of the 13.8 MB compressed: the build took 17.5 s of CPU, 10.2 s without them).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
# Uploaded evidence lives outside the web root and is served only through views that
# check permission; there is deliberately no MEDIA_URL route.
MEDIA_ROOT = Path(env.str("PORTAL_MEDIA_ROOT", default=str(VAR_DIR / "media")))
MEDIA_URL = "/media/"  # never routed: evidence is served by permission-checking views
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Cache and broker: Redis when REDIS_URL is set, in-process otherwise.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
if not CELERY_BROKER_URL:
    # In-process: nothing is ever published, but Celery still wants a transport to name.
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
# Background jobs (imports, exports, enforcement orders) with tasks in-process: run each in a
# thread of the serving process, so the request that asked for it returns at once to the job's
# page (the embedded default). The test suite runs them in the request, to see their end.
JOBS_IN_A_THREAD = env.bool("JOBS_IN_A_THREAD", default=CELERY_TASK_ALWAYS_EAGER)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="portal")
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 3}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# E-mail: a real server with EMAIL_URL (smtp://user:pass@host:port), files otherwise.
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Frontier Access Portal <no-reply@portal.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Domain settings.
FRONTIER_COMPUTE_THRESHOLD_FLOP = env.float("FRONTIER_COMPUTE_THRESHOLD_FLOP", default=1e26)

# Security: sessions end with the browser and after 30 minutes idle (NIST AC-12). The idle
# deadline moves when a page comes more than SESSION_REFRESH_SECONDS after it last moved
# (portal/accounts/sessions.py), so an idle session ends up to that much early, never late.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=30 * 60)
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # The health check is probed over plain HTTP by the orchestrator.
    SECURE_REDIRECT_EXEMPT = [r"^healthz", r"^metrics$"]

# Logs: one JSON object per line in production, readable text in development. Either way
# each line names the request id, user and organisation (portal/observability/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="json" if PRODUCTION else "text")
LOGGING = logging_config(
    fmt=LOG_FORMAT, level=env.str("LOG_LEVEL", default="INFO"), eager=CELERY_TASK_ALWAYS_EAGER
)
# Celery workers log through the same configuration instead of replacing it.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# Request ids: taken from this header when the proxy in front sets it (empty: never trust
# a header, always make a new id), and returned as X-Request-ID.
REQUEST_ID_HEADER = env.str("REQUEST_ID_HEADER", default="X-Request-ID")

# /metrics (Prometheus): readable from these networks, or anywhere with
# "Authorization: Bearer <METRICS_TOKEN>".
METRICS_ALLOWED_NETWORKS = env.list("METRICS_ALLOWED_NETWORKS", default=["127.0.0.0/8", "::1/128"])
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# The dependency report of /healthz/details is shown to signed-in portal administrators and
# to the networks above (or the token); /healthz itself says only "ok" or "down".

# Clock jobs run by Celery beat (synced into django-celery-beat's tables at start-up).
CELERY_BEAT_SCHEDULE = {
    "deactivate-dormant-accounts": {
        "task": "accounts.deactivate_dormant_accounts",
        "schedule": 24 * 60 * 60,
    },
    "jobs-sweep": {"task": "jobs.sweep", "schedule": 5 * 60},
    "jobs-prune-results": {"task": "jobs.prune_results", "schedule": crontab(hour=3, minute=40)},
    "notifications-sweep-outbox": {
        "task": "notifications.sweep_outbox",
        "schedule": 60,
    },
    "notifications-send-digests": {
        "task": "notifications.send_digests",
        "schedule": 60 * 60,
    },
    "approvals-return-lapsed-requests": {
        "task": "approvals.return_lapsed_requests",
        "schedule": crontab(minute=5),
    },
    "approvals-expire-lapsed-grants": {
        "task": "approvals.expire_lapsed_grants",
        "schedule": crontab(minute=10),
    },
    "approvals-send-clock-reminders": {
        "task": "approvals.send_clock_reminders",
        "schedule": crontab(hour=6, minute=0),
    },
    "enforcement-follow-through": {"task": "approvals.follow_through_suspensions", "schedule": 5 * 60},
    "approvals-send-enforcement-reminders": {
        "task": "approvals.send_enforcement_reminders",
        "schedule": crontab(hour=6, minute=15),
    },
    "notifications-outbox-alert": {
        "task": "notifications.alert_if_outbox_stuck",
        "schedule": 5 * 60,
    },
    "portal-prune-retention": {
        "task": "portal.prune_retention",
        "schedule": crontab(hour=3, minute=30),
    },
    "portal-verify-audit-chain": {
        "task": "portal.verify_audit_chain",
        "schedule": crontab(hour=4, minute=0),
    },
}

# Panels on the vendor dashboard, contributed by apps that the registry may not import
# (dotted paths to callables taking the request and returning a dict with "template" and
# "context", or None to show nothing).
VENDOR_DASHBOARD_PANELS = env.list(
    "VENDOR_DASHBOARD_PANELS",
    default=[
        "approvals.vendor_pages.panels.designation_panel",
        "approvals.vendor_pages.panels.requests_panel",
    ],
)
# Panels on a frontier model's page: callables taking the request and the model.
VENDOR_MODEL_PANELS = env.list("VENDOR_MODEL_PANELS", default=["approvals.vendor_pages.panels.model_panel"])

# Notifications (portal/notifications): retries, outbox sweep and the daily digest.
# A failed send is retried after BASE × 2^(attempt-1) seconds (capped at MAX) until
# MAX_ATTEMPTS, then it is marked failed for a portal administrator to retry. The sweep
# (every minute) re-queues pending rows left for SWEEP_PENDING_AFTER seconds and gives back
# rows held "sending" for longer than SENDING_LEASE seconds by a worker that died.
# With the defaults the attempts span about 25 hours (30 s, 1, 2, 4 … 32 min, then hourly):
# a mail server down over a night and a day loses nothing.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=32)
NOTIFICATIONS_RETRY_BACKOFF_BASE = env.float("NOTIFICATIONS_RETRY_BACKOFF_BASE", default=30.0)
NOTIFICATIONS_RETRY_BACKOFF_MAX = env.float("NOTIFICATIONS_RETRY_BACKOFF_MAX", default=3600.0)
NOTIFICATIONS_SWEEP_PENDING_AFTER = env.int("NOTIFICATIONS_SWEEP_PENDING_AFTER", default=300)
NOTIFICATIONS_SENDING_LEASE = env.int("NOTIFICATIONS_SENDING_LEASE", default=900)
NOTIFICATIONS_SWEEP_BATCH = env.int("NOTIFICATIONS_SWEEP_BATCH", default=500)
NOTIFICATIONS_DIGEST_HOUR = env.int("NOTIFICATIONS_DIGEST_HOUR", default=7)
# The outbox is stuck when a row has been due this long, or rows failed in the last day;
# portal administrators are then mailed (through ALERT_EMAIL_URL if set, else the normal
# mail server, never through the outbox) at most every NOTIFICATIONS_ALERT_EVERY seconds.
NOTIFICATIONS_STUCK_AFTER = env.int("NOTIFICATIONS_STUCK_AFTER", default=30 * 60)
NOTIFICATIONS_ALERT_EVERY = env.int("NOTIFICATIONS_ALERT_EVERY", default=6 * 60 * 60)
ALERT_EMAIL_URL = env.str("ALERT_EMAIL_URL", default="")

# Retention (portal/retention.py, daily): sent notifications and sign-in events older than
# this many days are deleted (0: kept for ever). History and decisions are never pruned.
RETENTION_NOTIFICATIONS_DAYS = env.int("RETENTION_NOTIFICATIONS_DAYS", default=365)
RETENTION_SIGN_IN_EVENTS_DAYS = env.int("RETENTION_SIGN_IN_EVENTS_DAYS", default=365)
# Background jobs' result files (exports) are removed this many days after the job finished
# (daily, jobs-prune-results; 0: kept for ever). The job, its summary and its history stay.
JOBS_RESULT_RETENTION_DAYS = env.int("JOBS_RESULT_RETENTION_DAYS", default=30)

# Panels on the agency dashboard (the admin's home page), contributed by the apps that
# portal/ may not import: dotted paths to callables taking the request and returning a dict
# with "template" and "context", or None to show nothing.
ADMIN_DASHBOARD_PANELS = env.list(
    "ADMIN_DASHBOARD_PANELS",
    default=[
        "portal.notifications.outbox_health.outbox_panel",
        "approvals.agency_admin.panels.queues_panel",
        "approvals.agency_admin.amendment_pages.changed_grants_panel",
        "approvals.agency_admin.panels.oversight_panel",
        "approvals.agency_admin.panels.charts_panel",
    ],
)

# Enforcement clocks (approvals/enforcement.py holds the defaults; INCIDENT_REPORT_DAYS, a
# mapping by severity, can be set here as a Django setting).
DESIGNATION_RESPONSE_DAYS = env.int("DESIGNATION_RESPONSE_DAYS", default=30)


# The vendor API (api/): Django REST Framework, tokens, the entitlement check, webhooks.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",  # enforces CSRF
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ApiAccess"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_token": env.str("API_RATE_LIMIT", default="6000/minute")},
    "DEFAULT_PAGINATION_CLASS": "api.pagination.ApiCursorPagination",
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Frontier Access Portal API",
    "DESCRIPTION": "The vendor API: models, customers, access requests, grants and the entitlement check. "
    "Authenticate with `Authorization: Bearer <token>` (create a token at /vendor/api/tokens/).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_problem_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AccessRequestStatusEnum": "approvals.models.AccessRequest.Status",
        "GrantStatusEnum": "approvals.models.Grant.Status",
        "IncidentStatusEnum": "approvals.models.IncidentReport.Status",
        "InformationRequestStatusEnum": "approvals.models.InformationRequest.Status",
    },
}
# Entitlement answers kept in Redis (api.entitlement_cache) at most this long; any change that
# could alter an answer clears them all when it commits, so they are never stale. 0: not kept.
API_ENTITLEMENT_CACHE_SECONDS = env.float("API_ENTITLEMENT_CACHE_SECONDS", default=300)
API_WEBHOOKS_ALLOW_LOCAL_HTTP = env.bool("API_WEBHOOKS_ALLOW_LOCAL_HTTP", default=not PRODUCTION)
API_WEBHOOK_TIMEOUT = env.float("API_WEBHOOK_TIMEOUT", default=10.0)
API_WEBHOOK_MAX_ATTEMPTS = env.int("API_WEBHOOK_MAX_ATTEMPTS", default=12)
API_WEBHOOK_RETRY_BACKOFF_BASE = env.float("API_WEBHOOK_RETRY_BACKOFF_BASE", default=30.0)
API_WEBHOOK_RETRY_BACKOFF_MAX = env.float("API_WEBHOOK_RETRY_BACKOFF_MAX", default=6 * 3600.0)
API_WEBHOOK_SENDING_LEASE = env.int("API_WEBHOOK_SENDING_LEASE", default=300)
CELERY_BEAT_SCHEDULE["api-sweep-webhooks"] = {"task": "api.sweep_webhooks", "schedule": 60.0}
