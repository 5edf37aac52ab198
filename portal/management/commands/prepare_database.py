"""``python manage.py prepare_database``: migrate, and build a new empty database quickly.

On a database that has tables, this is ``migrate``. On a new, empty one (the embedded
default's first start, a throwaway database in the tests) the project's own tables are built
straight from the models, as Django's test runner builds its database, and the project's
migrations are recorded as applied; the other apps' migrations run as usual. Migrating from
zero instead runs the project's squashed migrations (one per app, ``0001_squashed_…``),
whose every operation re-renders each model related to the user (every history table is):
about half a minute on two cores, against 8 s this way (SQLite).

Both ways give the same schema: ``portal/tests/test_migrations.py`` migrates a PostgreSQL
database from zero and compares it with one built from the models. The short way is taken
only when nothing in the project's migrations would be lost by it: every ``RunPython`` and
``RunSQL`` there must be ``elidable`` (it only fixes rows an older database holds, so a new
database does not need it). Otherwise, and with ``--migrate``, it is plain ``migrate``.
"""

import sys

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations import RunPython, RunSQL
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder


def project_app_labels():
    """The apps whose code lives in this repository (not Django's or a library's)."""
    base, installed = str(settings.BASE_DIR), (sys.prefix, sys.base_prefix)
    return {
        config.label
        for config in apps.get_app_configs()
        if config.path.startswith(base)
        and not config.path.startswith(installed)
        and config.models_module is not None
    }


def data_operations_kept(loader, labels):
    """``"app.migration"`` names of the migrations in ``labels`` with a non-elidable data step."""
    kept = []
    for key in sorted(loader.graph.nodes):
        if key[0] not in labels:
            continue
        migration = loader.graph.nodes[key]
        if any(isinstance(op, (RunPython, RunSQL)) and not op.elidable for op in migration.operations):
            kept.append(".".join(key))
    return kept


class Command(BaseCommand):
    help = "Migrate; a new empty database is built from the models and its migrations recorded."

    def add_arguments(self, parser):
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--migrate", action="store_true", help="always replay the migrations")

    def handle(self, *args, database, migrate, verbosity, **options):
        connection = connections[database]
        if migrate or connection.introspection.table_names():
            call_command("migrate", database=database, interactive=False, verbosity=verbosity)
            return
        labels = project_app_labels()
        loader = MigrationLoader(connection)
        kept = data_operations_kept(loader, labels)
        if kept:
            self.stdout.write(f"Replaying the migrations: data steps to keep in {', '.join(kept)}.")
            call_command("migrate", database=database, interactive=False, verbosity=verbosity)
            return
        executor = MigrationExecutor(connection)
        plan = [migration for migration, _ in executor.migration_plan(loader.graph.leaf_nodes())]
        first_ours = next(i for i, migration in enumerate(plan) if migration.app_label in labels)
        # What the project's migrations stand on (auth, contenttypes, ...), migrated as usual.
        self._migrate_libraries(plan[:first_ours], connection)
        # The project's tables from its models, in one schema editor (foreign keys last).
        with connection.schema_editor() as editor:
            for label in sorted(labels):
                for model in apps.get_app_config(label).get_models():
                    if model._meta.managed and not model._meta.proxy:
                        editor.create_model(model)
        # Then the rest of the plan: the project's migrations recorded as applied, in its order,
        # and the libraries' (second factors, the admin's log, ...) run as soon as what they
        # stand on is there, each time in one pass. Early is cheap: a pass re-renders every
        # model recorded so far (the libraries' stand on the user model, related to every
        # history table). A new SQLite database: 13.3 s with them all at the end, 8.3 s so.
        recorder = MigrationRecorder(connection)
        recorder.ensure_schema()
        applied = {_key(m) for m in plan[:first_ours]}
        pending, recorded = plan[first_ours:], 0
        while pending:
            ready = _libraries_ready(pending, applied, labels, loader)
            if ready:
                self._migrate_libraries(ready, connection)
                applied.update(_key(m) for m in ready)
            else:
                migration = next(m for m in pending if m.app_label in labels)
                executor.record_migration(migration)  # a squash: the migrations it replaces
                applied.add(_key(migration))
                recorded += 1
            pending = [m for m in pending if _key(m) not in applied]
        # post_migrate: content types and permissions for every app.
        call_command("migrate", database=database, interactive=False, verbosity=verbosity)
        if verbosity:
            built = ", ".join(sorted(labels))
            self.stdout.write(f"Built the tables of {built} from the models; {recorded} migrations recorded.")

    def _migrate_libraries(self, migrations, connection):
        """Apply ``migrations`` (the libraries', in plan order) in one pass of the executor."""
        if migrations:
            targets = [_key(m) for m in _last_per_app(migrations)]
            MigrationExecutor(connection).migrate(targets)


def _libraries_ready(pending, applied, labels, loader):
    """The libraries' migrations of ``pending`` (in plan order) whose every parent is applied, or
    is one of them."""
    ready, there = [], set(applied)
    for migration in pending:
        key = _key(migration)
        if migration.app_label in labels:
            continue
        if all(parent.key in there for parent in loader.graph.node_map[key].parents):
            ready.append(migration)
            there.add(key)
    return ready


def _key(migration):
    return (migration.app_label, migration.name)


def _last_per_app(migrations):
    """The last migration of each app in ``migrations`` (migrating to it applies the ones before)."""
    last = {}
    for migration in migrations:
        last[migration.app_label] = migration
    return list(last.values())
