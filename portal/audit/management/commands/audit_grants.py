"""``manage.py audit_grants --role portal_app``: the GRANTs that keep history append-only.

Prints (or with ``--apply`` runs, as the tables' owner) SQL that lets the application's
database role read and add history rows but never change or remove them: ``UPDATE``,
``DELETE`` and ``TRUNCATE`` are revoked on every history table (and the history tables of
many-to-many fields). ``--all-tables`` first grants the role what it needs on every other
table (read and write rows, use the sequences). The application must connect as a role that
does not own the tables (an owner may grant itself anything back); run the migrations as the
owner and this command after every ``migrate`` (a new history table needs its REVOKE).
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from portal.audit.export import history_models


def history_tables():
    """Every history table, with the tables holding the history of many-to-many fields."""
    tables = set()
    for model in history_models():
        history_model = model.history.model
        tables.add(history_model._meta.db_table)
        for relation in history_model._meta.related_objects:
            related = relation.related_model
            if related._meta.db_table.startswith(history_model._meta.db_table + "_"):
                tables.add(related._meta.db_table)
    return sorted(tables)


def grant_statements(role, *, all_tables=False):
    quote = connection.ops.quote_name
    role = quote(role)
    tables = ", ".join(quote(t) for t in history_tables())
    statements = []
    if all_tables:
        statements += [
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
            f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        ]
    statements += [
        f"REVOKE UPDATE, DELETE, TRUNCATE ON TABLE {tables} FROM {role}",
        f"GRANT SELECT, INSERT ON TABLE {tables} TO {role}",
    ]
    return statements


class Command(BaseCommand):
    help = "Print (or --apply) the GRANTs that let the application's role only read and add history rows."

    def add_arguments(self, parser):
        parser.add_argument("--role", required=True, help="The database role the application connects as.")
        parser.add_argument(
            "--all-tables",
            action="store_true",
            help="Also grant the role read/write on every other table and the sequences.",
        )
        parser.add_argument("--apply", action="store_true", help="Run the statements (as the tables' owner).")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError("History GRANTs apply to PostgreSQL only.")
        statements = grant_statements(options["role"], all_tables=options["all_tables"])
        if not options["apply"]:
            self.stdout.write(";\n".join(statements) + ";")
            return
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
        self.stdout.write(f"History is append-only for {options['role']}: {len(history_tables())} tables.")
