"""Backup and restore, as an operator runs them (``scripts/backup``, ``scripts/restore``).

The PostgreSQL test builds the demo world in a throwaway database of its own (not the test
database), adds evidence files, backs up, drops the database and deletes the media, then
restores and compares everything: every row of every table (history included), every
request, every decision's hash, every evidence file, byte for byte.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import require_service

ROOT = Path(__file__).resolve().parents[2]

SEED = r"""
from django.core.management import call_command
call_command("seed_demo", stdout=open("/dev/null", "w"))
"""

ADD_EVIDENCE = r"""
import hashlib, os
from django.apps import apps
from django.core.files.base import ContentFile
from portal.accounts.models import User
Evidence = apps.get_model("vendors", "EvidenceDocument")
Vendor = apps.get_model("vendors", "Vendor")
vendor = Vendor.objects.get(organisation__name="Aurora Labs")
officer = User.objects.get(email="officer@aurora.example")
contents = [b"%PDF-1.4 red-team report\n", os.urandom(1024 * 1024), "évaluation ✓".encode()]
for i, content in enumerate(contents):
    doc = Evidence(vendor=vendor, frontier_model=vendor.frontier_models.first(), kind="other",
                   title=f"Backup test {i}", original_filename=f"f{i}.pdf",
                   content_type="application/pdf", size_bytes=len(content),
                   sha256=hashlib.sha256(content).hexdigest(), uploaded_by=officer)
    doc.file.save(f"backup-test-{i}.pdf", ContentFile(content), save=False)
    doc._change_reason = "backup test"
    doc.save()
"""

SNAPSHOT = r"""
import hashlib, json
from pathlib import Path
from django.apps import apps
from django.conf import settings

def digest(value):
    return hashlib.sha256(json.dumps(value, default=str, sort_keys=True).encode()).hexdigest()

out = {"tables": {}}
for model in apps.get_models(include_auto_created=True):
    if model._meta.proxy or not model._meta.managed:
        continue
    rows = list(model._base_manager.order_by("pk").values())
    out["tables"][model._meta.label] = [len(rows), digest(rows)]
AccessRequest = apps.get_model("approvals", "AccessRequest")
Decision = apps.get_model("approvals", "Decision")
out["requests"] = list(AccessRequest.objects.order_by("pk").values_list("tracking_number", "status"))
decisions = list(Decision.objects.order_by("pk"))
out["decisions"] = [(d.access_request.tracking_number, d.snapshot_sha256) for d in decisions]
canonical = lambda d: json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
out["decision_hashes_hold"] = all(
    hashlib.sha256(canonical(d.snapshot).encode()).hexdigest() == d.snapshot_sha256 for d in decisions
)
out["history_rows"] = sum(
    m._base_manager.count() for m in apps.get_models() if m.__name__.startswith("Historical")
)
Evidence = apps.get_model("vendors", "EvidenceDocument")
out["evidence_files_hold"] = all(
    hashlib.sha256(Path(e.file.path).read_bytes()).hexdigest() == e.sha256
    for e in Evidence.objects.exclude(file="")
)
media = Path(settings.MEDIA_ROOT)
out["media"] = {
    p.relative_to(media).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
    for p in sorted(media.rglob("*")) if p.is_file()
}
print("SNAPSHOT " + json.dumps(out, default=str))
"""


def run(args, env, timeout=900):
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def manage(env, *args):
    return run([sys.executable, "manage.py", *args], env)


def snapshot(env, before=""):
    """The snapshot of the database and media, after running the code ``before`` in the same
    ``manage.py shell`` (one Django start-up instead of several)."""
    out = manage(env, "shell", "-c", before + SNAPSHOT).stdout
    return json.loads(out.split("SNAPSHOT ", 1)[1])


def base_env(tmp_path, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "PORTAL_ENV", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        PORTAL_VAR_DIR=str(tmp_path / "var"),
        PORTAL_MEDIA_ROOT=str(tmp_path / "media"),
        PYTHON=sys.executable,
        **extra,
    )
    return env


@pytest.fixture
def throwaway_postgres():
    """A database of its own on the test server, dropped afterwards (safe beside other workers)."""
    url = os.environ.get("DATABASE_URL", "")
    require_service(
        "PostgreSQL", url.startswith(("postgres://", "postgresql://")), "set DATABASE_URL=postgres://…"
    )
    require_service("pg_dump", shutil.which("pg_dump") is not None, "apt-get install postgresql-client")
    parsed = urlparse(url)
    name = f"portal_backup_test_{uuid.uuid4().hex[:10]}"
    server = parsed._replace(path="/postgres").geturl()
    subprocess.run(["psql", server, "-qc", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    yield name, parsed._replace(path=f"/{name}").geturl(), server
    subprocess.run(
        ["psql", server, "-qc", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'],
        check=False,
        capture_output=True,
    )


@pytest.mark.integration
def test_backup_drop_restore_on_postgresql_gives_back_everything(tmp_path, throwaway_postgres):
    name, url, server = throwaway_postgres
    # the subprocesses hash the demo people's passwords cheaply (a test-only switch of
    # portal/settings.py, never read in production): PBKDF2 cost 7 of seed_demo's 35 s here
    env = base_env(tmp_path, DATABASE_URL=url, PORTAL_TEST_FAST_PASSWORD_HASHES="1")
    # given the demo world with evidence files (seeded, added to and read in one process)
    manage(env, "prepare_database", "-v0")
    before = snapshot(env, before=SEED + ADD_EVIDENCE)
    assert before["requests"]
    assert before["decisions"]
    assert before["history_rows"] > 100
    assert len([p for p in before["media"] if "backup-test-" in p]) == 3
    assert len(before["media"]) > 3  # the demo world's own evidence too
    assert before["decision_hashes_hold"]
    assert before["evidence_files_hold"]
    # when it is backed up, the database dropped, the media deleted, and the backup restored
    started = time.monotonic()
    run([str(ROOT / "scripts" / "backup"), "--to", str(tmp_path / "backups")], env)
    backup_seconds = time.monotonic() - started
    (backup_dir,) = (tmp_path / "backups").glob("portal-backup-*")
    manifest = json.loads((backup_dir / "MANIFEST.json").read_text())
    assert "database.dump" in manifest["files"]
    assert {f"media/{rel}" for rel in before["media"]} <= set(manifest["files"])
    subprocess.run(
        ["psql", server, "-qc", f'DROP DATABASE "{name}" WITH (FORCE)'], check=True, capture_output=True
    )
    shutil.rmtree(tmp_path / "media")
    started = time.monotonic()
    run([str(ROOT / "scripts" / "restore"), str(backup_dir), "--yes"], env)
    restore_seconds = time.monotonic() - started
    # then every table, request, decision hash, history row and evidence file is as it was
    after = snapshot(env)
    assert after == before
    print(
        f"\nbackup {backup_seconds:.1f} s, restore {restore_seconds:.1f} s, "
        f"{before['history_rows']} history rows, {len(manifest['files'])} files"
    )
    # and restoring over a live database replaces what changed since
    manage(
        env,
        "shell",
        "-c",
        "from portal.accounts.models import User; "
        "User.objects.filter(email='admin@portal.example').update(full_name='Changed')",
    )
    run([str(ROOT / "scripts" / "restore"), str(backup_dir), "--yes"], env)
    assert snapshot(env) == before


@pytest.fixture(scope="module")
def migrated_embedded(tmp_path_factory):
    """The embedded default's new database, prepared once for this module's tests."""
    template = tmp_path_factory.mktemp("migrated")
    manage(base_env(template), "prepare_database", "-v0")
    return template / "var" / "portal.sqlite3"


def embedded_env(tmp_path, migrated_embedded):
    """An embedded default of the test's own, starting from a freshly migrated database."""
    env = base_env(tmp_path)
    (tmp_path / "var").mkdir()
    shutil.copyfile(migrated_embedded, tmp_path / "var" / "portal.sqlite3")
    return env


def test_backup_and_restore_on_the_embedded_default(tmp_path, migrated_embedded):
    env = embedded_env(tmp_path, migrated_embedded)
    manage(env, "createsuperuser", "--noinput", "--email", "ops@portal.example", "--full_name", "Ops")
    (tmp_path / "media" / "evidence").mkdir(parents=True)
    (tmp_path / "media" / "evidence" / "a.bin").write_bytes(os.urandom(4096))
    before = snapshot(env)
    run([str(ROOT / "scripts" / "backup"), "--to", str(tmp_path / "backups")], env)
    (backup_dir,) = (tmp_path / "backups").glob("portal-backup-*")
    assert (backup_dir / "database.sqlite3").exists()
    (tmp_path / "var" / "portal.sqlite3").unlink()
    shutil.rmtree(tmp_path / "media")
    run([str(ROOT / "scripts" / "restore"), str(backup_dir), "--yes"], env)
    assert snapshot(env) == before


def test_a_damaged_backup_is_refused_before_anything_changes(tmp_path, migrated_embedded):
    env = embedded_env(tmp_path, migrated_embedded)
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "a.txt").write_text("evidence")
    run([str(ROOT / "scripts" / "backup"), "--to", str(tmp_path / "backups")], env)
    (backup_dir,) = (tmp_path / "backups").glob("portal-backup-*")
    (backup_dir / "media" / "a.txt").write_text("tampered")
    (tmp_path / "media" / "a.txt").write_text("current")
    result = subprocess.run(
        [str(ROOT / "scripts" / "restore"), str(backup_dir), "--yes"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "checksum differs: media/a.txt" in result.stderr
    assert (tmp_path / "media" / "a.txt").read_text() == "current"


def test_keep_prunes_the_oldest_backups(tmp_path, migrated_embedded):
    env = embedded_env(tmp_path, migrated_embedded)
    for _ in range(3):
        run([str(ROOT / "scripts" / "backup"), "--to", str(tmp_path / "backups"), "--keep", "2"], env)
    assert len(list((tmp_path / "backups").glob("portal-backup-*"))) == 2
