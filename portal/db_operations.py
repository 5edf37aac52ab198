"""Indexes for what only PostgreSQL can write, and statements PostgreSQL prepares once.

An index ordered ``NULLS FIRST`` (an agency's queue: running clocks before stopped ones) is
part of the schema everywhere: the models and the migration state agree, so
``makemigrations --check`` stays clean. PostgreSQL builds it as written; SQLite, which cannot
write ``NULLS FIRST`` inside an index, builds the same columns in their default order when the
tables come straight from the models (the test suite), and nothing when they come from the
migrations (the embedded demo database, a few hundred rows).
"""

import weakref

from django.db import migrations, models
from django.db.models.expressions import OrderBy


class PostgresOnlyAddIndex(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def _default_nulls(expression):
    if isinstance(expression, OrderBy):
        expression = expression.copy()
        expression.nulls_first = expression.nulls_last = None
    return expression


class PortableIndex(models.Index):
    """A ``models.Index`` (it deconstructs as one) that drops ``NULLS FIRST/LAST`` off PostgreSQL."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        index = self
        if schema_editor.connection.vendor != "postgresql" and self.expressions:
            index = self.clone()
            index.expressions = tuple(_default_nulls(e) for e in self.expressions)
        return models.Index.create_sql(index, model, schema_editor, using=using, **kwargs)

    def __eq__(self, other):  # equal to the plain Index it deconstructs as (the migration state)
        if isinstance(other, models.Index):
            return self.deconstruct() == other.deconstruct()
        return NotImplemented

    __hash__ = None

    def deconstruct(self):
        _, args, kwargs = super().deconstruct()
        return "django.db.models.Index", args, kwargs


# The statements prepared on each open PostgreSQL connection (psycopg's, not Django's wrapper):
# under a pool of connections (Django's "pool" option; not turned on here, see the README's
# timings) a connection serves one thread's wrapper, goes back to the pool and serves another's,
# its prepared statements with it.
_PREPARED = weakref.WeakKeyDictionary()


def execute_prepared(db, cursor, name, statement, values=(), types=""):
    """Run ``statement`` on PostgreSQL as the prepared statement ``name``: prepared once per
    database connection (``PREPARE`` outlives a rolled-back transaction), so that its plan is made
    once, not at every call, where planning costs more than running it. ``types`` are the
    parameters' types (``"text, bigint"``) for ``values``."""
    prepared = _PREPARED.setdefault(db.connection, set())
    if name not in prepared:
        cursor.execute(f"PREPARE {name} {f'({types})' if types else ''} AS {statement}")
        prepared.add(name)
    if values:
        cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * len(values))})", values)
    else:
        cursor.execute(f"EXECUTE {name}")
