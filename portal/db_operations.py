"""Migration operations for what only PostgreSQL can build.

An index whose expression SQLite cannot write (``NULLS FIRST`` inside an index) is part of
the schema everywhere (the models and the migration state agree, so ``makemigrations --check``
stays clean), and built on PostgreSQL only: the embedded SQLite default, a demo database of
a few hundred rows, runs without it.
"""

from django.db import migrations


class PostgresOnlyAddIndex(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
