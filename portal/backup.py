"""Backups of the database and the evidence files, with a manifest of checksums; and restore.

A backup is one directory, ``portal-backup-<UTC time>/``:

* ``database.dump`` — PostgreSQL's ``pg_dump --format=custom`` (or ``database.sqlite3``,
  SQLite's online backup, on the embedded default);
* ``media/`` — every file under the media root (uploaded evidence), as it was;
* ``MANIFEST.json`` — what is in it: the SHA-256 and size of every file above, the
  database engine, the latest migration of each app, and when it was taken. It is written
  last, so a directory without it is an unfinished backup.

Restore checks every checksum before it touches anything, then replaces the database and
the media root with the backup's.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connections

MANIFEST = "MANIFEST.json"
FORMAT = 1


class BackupError(Exception):
    pass


def _pg_bin(name):
    """``pg_dump``/``pg_restore``/``psql`` matching the server (PG_BIN or PostgreSQL 15's) if present."""
    for folder in (os.environ.get("PG_BIN"), "/usr/lib/postgresql/15/bin"):
        if folder and (Path(folder) / name).exists():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_url(db, name=None):
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgresql://{auth}@{host}:{port}/{quote(name or db['NAME'])}"


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _migrations():
    from django.db.migrations.recorder import MigrationRecorder

    latest = {}
    for app, name in MigrationRecorder(connections["default"]).migration_qs.values_list("app", "name"):
        latest[app] = max(latest.get(app, ""), name)
    return latest


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()[:2000]}")
    return result


def backup(destination, *, keep=None):
    """Write a new backup under ``destination``; returns ``(path, manifest)``."""
    destination = Path(destination)
    destination.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = destination / f"portal-backup-{stamp}"
    work = destination / f".portal-backup-{stamp}.partial"
    work.mkdir()
    started = time.monotonic()
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    try:
        if engine == "postgresql":
            dump = work / "database.dump"
            _run([_pg_bin("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", _pg_url(db)])
        elif engine == "sqlite3":
            dump = work / "database.sqlite3"
            source = sqlite3.connect(db["NAME"])
            copy = sqlite3.connect(dump)
            with copy:
                source.backup(copy)  # consistent even while the portal writes
            copy.close()
            source.close()
        else:
            raise BackupError(f"Backups of {engine} databases are not supported.")
        media_root = Path(settings.MEDIA_ROOT)
        if media_root.exists():
            shutil.copytree(media_root, work / "media", symlinks=False)
        else:
            (work / "media").mkdir()
        files = {}
        for path in sorted(p for p in work.rglob("*") if p.is_file()):
            rel = path.relative_to(work).as_posix()
            files[rel] = {"sha256": sha256_of(path), "bytes": path.stat().st_size}
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "engine": engine,
            "database": db["NAME"] if engine == "postgresql" else Path(db["NAME"]).name,
            "migrations": _migrations(),
            "files": files,
            "seconds": round(time.monotonic() - started, 3),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    if keep:
        prune(destination, keep=keep)
    return target, manifest


def backups_in(destination):
    return sorted(p for p in Path(destination).glob("portal-backup-*") if (p / MANIFEST).exists())


def prune(destination, *, keep):
    """Keep the newest ``keep`` complete backups in ``destination``; returns what was removed."""
    removed = backups_in(destination)[:-keep] if keep > 0 else []
    for path in removed:
        shutil.rmtree(path)
    return removed


def verify(source):
    """The backup's manifest, after checking every file against it (raises on any mismatch)."""
    source = Path(source)
    manifest_path = source / MANIFEST
    if not manifest_path.exists():
        raise BackupError(f"{source} has no {MANIFEST}: not a complete backup.")
    manifest = json.loads(manifest_path.read_text())
    problems = []
    present = {p.relative_to(source).as_posix() for p in source.rglob("*") if p.is_file()} - {MANIFEST}
    for rel, expected in manifest["files"].items():
        path = source / rel
        if not path.exists():
            problems.append(f"missing: {rel}")
        elif sha256_of(path) != expected["sha256"]:
            problems.append(f"checksum differs: {rel}")
    problems += [f"not in the manifest: {rel}" for rel in sorted(present - set(manifest["files"]))]
    if problems:
        raise BackupError("The backup does not match its manifest: " + "; ".join(problems[:20]))
    return manifest


def restore(source):
    """Replace the database and the media root with the backup's. Returns the manifest."""
    source = Path(source)
    manifest = verify(source)
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine != manifest["engine"]:
        raise BackupError(f"The backup is of a {manifest['engine']} database; this portal uses {engine}.")
    connections.close_all()
    if engine == "postgresql":
        _restore_postgresql(db, source / "database.dump")
    else:
        target = Path(db["NAME"])
        target.parent.mkdir(parents=True, exist_ok=True)
        source_db = sqlite3.connect(source / "database.sqlite3")
        target_db = sqlite3.connect(target)
        with target_db:
            source_db.backup(target_db)
        target_db.close()
        source_db.close()
    _restore_media(source / "media", Path(settings.MEDIA_ROOT))
    connections.close_all()
    return manifest


def _restore_postgresql(db, dump):
    name = db["NAME"]
    psql = _pg_bin("psql")
    maintenance = _pg_url(db, "postgres")
    exists = _run(
        [psql, maintenance, "-tA", "-v", f"n={name}"],
        input="SELECT 1 FROM pg_database WHERE datname = :'n';\n",
    )
    if exists.stdout.strip() != "1":
        # createdb's quoting rules, without a shell: the name is passed as one argument.
        _run([_pg_bin("createdb"), f"--maintenance-db={maintenance}", name])
        clean = []
    else:
        clean = ["--clean", "--if-exists"]
    _run(
        [
            _pg_bin("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            *clean,
            f"--dbname={_pg_url(db)}",
            str(dump),
        ]
    )


def _restore_media(backup_media, media_root):
    """Swap the media root for the backup's copy (the old one is kept until the copy is complete)."""
    media_root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".media-restore-", dir=media_root.parent))
    try:
        shutil.copytree(backup_media, staging / "media")
        old = media_root.with_name(media_root.name + ".before-restore")
        if old.exists():
            shutil.rmtree(old)
        if media_root.exists():
            media_root.rename(old)
        (staging / "media").rename(media_root)
        if old.exists():
            shutil.rmtree(old)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
