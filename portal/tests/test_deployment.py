"""Production mode's safeguards and the compose file."""

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


def test_compose_file_is_valid():
    binary = shutil.which("docker-compose")
    require_service(
        "docker-compose", binary is not None, "install Debian's docker-compose to validate the file"
    )
    result = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SECRET_KEY": "compose-validation-only"},
    )
    assert result.returncode == 0, result.stderr
    services = subprocess.run(
        [binary, "-f", str(ROOT / "docker-compose.yml"), "config", "--services"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SECRET_KEY": "compose-validation-only"},
    ).stdout.split()
    assert {"web", "worker", "beat", "db", "redis", "mail"} <= set(services)
