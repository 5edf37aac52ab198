"""Production mode's safeguards and the compose file."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import require_service

ROOT = Path(__file__).resolve().parents[2]


def run_manage(*args, **env):
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = run_manage("check", PORTAL_ENV="production", PORTAL_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_check_deploy_reports_nothing_in_production(tmp_path):
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        PORTAL_ENV="production",
        SECRET_KEY="x" * 20 + "a-long-random-secret-value-for-the-deploy-check-0123456789",
        ALLOWED_HOSTS="portal.example.gov",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def compose(*args, **env):
    binary = shutil.which("docker-compose")
    require_service(
        "docker-compose", binary is not None, "install Debian's docker-compose to validate the file"
    )
    return subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ.get("PATH", ""), **env},
    )


def parsed(result):
    """docker-compose prints YAML; its own interpreter (Debian's python3) has PyYAML to read it."""
    assert result.returncode == 0, result.stderr
    converted = subprocess.run(
        ["/usr/bin/python3", "-c", "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin)))"],
        input=result.stdout,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert converted.returncode == 0, converted.stderr
    return json.loads(converted.stdout)


def test_compose_file_is_valid_with_only_a_secret_key_and_a_database_password():
    given = {"SECRET_KEY": "compose-validation-only", "POSTGRES_PASSWORD": "pw-from-the-environment"}
    result = compose("--quiet", **given)
    assert result.returncode == 0, result.stderr
    for missing in ("SECRET_KEY", "POSTGRES_PASSWORD"):
        refused = compose("--quiet", **{k: v for k, v in given.items() if k != missing})
        assert refused.returncode != 0
        assert missing in refused.stderr
    config = parsed(compose(**given))
    services = config["services"]
    assert {"web", "worker", "beat", "db", "redis", "mail"} <= set(services)
    # restart policies on every long-running service; health checks on web, worker, beat
    for name in ("web", "worker", "beat", "db", "redis", "mail"):
        assert services[name].get("restart") == "unless-stopped", name
    assert "healthz/ready" in " ".join(services["web"]["healthcheck"]["test"])
    assert "beat_health" in " ".join(services["beat"]["healthcheck"]["test"])
    assert services["beat"]["deploy"]["replicas"] == 1
    # the password comes from the environment, and nowhere is one written in the file
    assert services["db"]["environment"]["POSTGRES_PASSWORD"] == "pw-from-the-environment"
    assert services["web"]["environment"]["POSTGRES_PASSWORD"] == "pw-from-the-environment"
    assert "portal:portal@" not in (ROOT / "docker-compose.yml").read_text()


def test_compose_addresses_are_overridable():
    config = parsed(
        compose(
            SECRET_KEY="k",
            POSTGRES_PASSWORD="p",
            DATABASE_URL="postgres://u:p@managed.example:5432/portal",
            REDIS_URL="redis://cache.example:6379/2",
            EMAIL_URL="smtp://relay.example:25",
        )
    )
    environment = config["services"]["worker"]["environment"]
    assert environment["DATABASE_URL"] == "postgres://u:p@managed.example:5432/portal"
    assert environment["REDIS_URL"] == "redis://cache.example:6379/2"
    assert environment["EMAIL_URL"] == "smtp://relay.example:25"


def test_database_url_is_built_from_the_compose_variables(tmp_path):
    code = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['HOST'], d['USER'], d['PASSWORD'], d['NAME'])"
    )
    result = run_manage(
        "shell",
        "-c",
        code,
        POSTGRES_PASSWORD="p@ss/w:rd#1",
        POSTGRES_HOST="db",
        PORTAL_VAR_DIR=str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-5:] == [
        "django.db.backends.postgresql",
        "db",
        "portal",
        "p@ss/w:rd#1",
        "portal",
    ]


def test_the_image_leaves_out_secrets_and_local_data():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".env.*", "var", ".venv", ".git"):
        assert entry in ignored


def test_gunicorn_timeout_and_workers_come_from_the_environment():
    code = (
        "import runpy; c = runpy.run_path('gunicorn.conf.py'); "
        "print(c['workers'], c['timeout'], c['accesslog'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "GUNICORN_WORKERS": "5", "GUNICORN_TIMEOUT": "45"},
        timeout=60,
    )
    assert result.stdout.split() == ["5", "45", "None"], result.stderr
    default = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout.split()
    assert default[1] == "60"
