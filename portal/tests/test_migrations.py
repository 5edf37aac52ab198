"""The migrations, on their own: the suite builds its tables straight from the models
(``--nomigrations``), so this is the one test that migrates a fresh PostgreSQL database from
zero, checks that the models need no new migration, and compares the migrated schema with
the one the suite tests on."""

import io
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration

COLUMNS = """
    SELECT table_name, column_name, data_type, is_nullable, character_maximum_length
    FROM information_schema.columns
    WHERE table_schema = 'public'
    ORDER BY table_name, column_name
"""
CONSTRAINTS = """
    SELECT rel.relname, con.contype, pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
    JOIN pg_namespace ns ON ns.oid = rel.relnamespace
    WHERE ns.nspname = 'public'
    ORDER BY 1, 2, 3
"""
INDEXES = """
    SELECT tablename, regexp_replace(indexdef, 'INDEX \\S+ ON', 'INDEX ON')
    FROM pg_indexes WHERE schemaname = 'public'
    ORDER BY 1, 2
"""

# Columns that differ between the two ways for a reason outside this project.
DIFFER_FOR_A_REASON = {
    # django.contrib.auth's own migration made the group–permission table's id an integer
    # before DEFAULT_AUTO_FIELD existed; Django never migrates an automatic many-to-many table.
    ("auth_group_permissions", "id"),
    # The migration recorder's own table: present only where migrations ran.
    ("django_migrations", "id"),
    ("django_migrations", "app"),
    ("django_migrations", "name"),
    ("django_migrations", "applied"),
}


def _database_url(name):
    from conftest import database_url_for_subprocess

    return database_url_for_subprocess().rsplit("/", 1)[0] + "/" + name


def _manage(*args, database):
    environment = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    environment["DATABASE_URL"] = _database_url(database)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _schema(cursor):
    cursor.execute(COLUMNS)
    columns = cursor.fetchall()
    cursor.execute(CONSTRAINTS)
    constraints = cursor.fetchall()
    cursor.execute(INDEXES)
    indexes = cursor.fetchall()
    return columns, constraints + indexes


@pytest.fixture
def empty_database(postgres_only):
    """A database of its own, created empty and dropped afterwards."""
    import psycopg

    name = f"{connection.settings_dict['NAME']}_migrate_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_database_url("postgres"), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(_database_url("postgres"), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_migrations_from_zero_give_the_schema_the_suite_tests_on(empty_database):
    import psycopg

    # given an empty database, when every migration runs from zero
    migrate = _manage("migrate", "--no-input", database=empty_database)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr

    # then the models need no migration that is not written yet (in this process, with the
    # migrations the suite's --nomigrations turns off turned back on) …
    out = io.StringIO()
    with override_settings(MIGRATION_MODULES={}):
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
        graph = MigrationLoader(None, ignore_no_migrations=True).graph
    assert "No changes detected" in out.getvalue()

    # … every migration of the graph (the squashes, and what is not squashed) is recorded as
    # applied, as `showmigrations` would show it …
    with psycopg.connect(_database_url(empty_database)) as migrated:
        cursor = migrated.cursor()
        recorded = set(cursor.execute("SELECT app, name FROM django_migrations").fetchall())
        migrated_columns, migrated_constraints = _schema(cursor)
    assert {"accounts", "vendors", "approvals", "api"} <= {app for app, _ in graph.nodes}  # (not turned off)
    assert set(graph.nodes) - recorded == set()

    # … and the tables, columns, constraints and indexes are those of the suite's database (built
    # straight from the models), so the tests exercise the schema production gets.
    with connection.cursor() as cursor:
        built_columns, built_constraints = _schema(cursor)
    migrated_columns = [c for c in migrated_columns if c[:2] not in DIFFER_FOR_A_REASON]
    built_columns = [c for c in built_columns if c[:2] not in DIFFER_FOR_A_REASON]
    assert set(migrated_columns) ^ set(built_columns) == set()
    migrated_constraints = [c for c in migrated_constraints if c[0] != "django_migrations"]
    built_constraints = [c for c in built_constraints if c[0] != "django_migrations"]
    assert sorted(migrated_constraints) == sorted(built_constraints)
