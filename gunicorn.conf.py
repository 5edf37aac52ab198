"""gunicorn's settings for the web container, all overridable from the environment.

GUNICORN_WORKERS (default 3; about 2 × cores + 1), GUNICORN_THREADS (1), GUNICORN_TIMEOUT
(60 s: the longest a request may take before its worker is replaced), PORT (8000).
Request lines are logged by the portal itself (one JSON line with the request id), so
gunicorn's access log is off.
"""

import os
import shutil
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = 200
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# gunicorn's own lines (start-up, worker restarts, timeouts) in the portal's format too.
try:
    from portal.observability.logs import logging_config

    production = os.environ.get("PORTAL_ENV") == "production"
    logconfig_dict = logging_config(
        fmt=os.environ.get("LOG_FORMAT", "json" if production else "text"),
        level=os.environ.get("LOG_LEVEL", "INFO").upper(),
        eager=False,
    )
except ImportError:  # run from elsewhere than the project's directory
    pass

# Prometheus: every worker writes its numbers here and /metrics adds them up.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", "/tmp/portal-prometheus")  # noqa: S108 - per container


def on_starting(server):
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
