"""``prepare_database``: a new database built from the models, its migrations recorded.

The schema is the one the migrations build: ``test_migrations.py`` migrates PostgreSQL from
zero and compares it with tables built from the models, as this command builds them.
"""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

from django.db import migrations

from portal.management.commands.prepare_database import data_operations_kept, project_app_labels

ROOT = Path(__file__).resolve().parents[2]


def manage(tmp_path, *args):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "PORTAL_ENV", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(PORTAL_VAR_DIR=str(tmp_path), PORTAL_MEDIA_ROOT=str(tmp_path / "media"))
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_a_new_database_is_built_from_the_models_with_every_migration_recorded(tmp_path):
    # when a new embedded database is prepared
    out = manage(tmp_path, "prepare_database")
    assert "from the models" in out
    # then the tables are there, the libraries' included
    with sqlite3.connect(tmp_path / "portal.sqlite3") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"approvals_accessrequest", "approvals_historicalgrant", "vendors_partnercustomer"} <= tables
    assert {"otp_static_staticdevice", "guardian_groupobjectpermission", "django_admin_log"} <= tables
    # and a second run on the same database is plain migrate, with nothing left to apply
    again = manage(tmp_path, "prepare_database")
    assert "from the models" not in again
    assert "No migrations to apply." in again


def test_a_data_step_that_must_run_sends_it_through_the_migrations():
    def node(*operations):
        return SimpleNamespace(operations=list(operations))

    loader = SimpleNamespace(
        graph=SimpleNamespace(
            nodes={
                ("approvals", "0001_initial"): node(migrations.RunPython(print, elidable=True)),
                ("approvals", "0002_fill"): node(migrations.RunPython(print)),
                ("auth", "0011_update_proxy_permissions"): node(migrations.RunPython(print)),
                ("vendors", "0002_sql"): node(migrations.RunSQL("SELECT 1")),
            }
        )
    )
    # only the project's own non-elidable steps count; a library's are migrated as usual anyway
    assert data_operations_kept(loader, {"approvals", "vendors"}) == [
        "approvals.0002_fill",
        "vendors.0002_sql",
    ]
    assert {"approvals", "vendors", "accounts", "notifications", "api"} <= project_app_labels()
    assert "auth" not in project_app_labels()
    assert "guardian" not in project_app_labels()
