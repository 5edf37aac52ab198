"""``portal.db_operations.execute_prepared`` prepares a statement once per open PostgreSQL
connection, not once per Django wrapper: a wrapper handed a connection that another wrapper
prepared it on (as a pool of connections, Django's "pool" option, would) runs it."""

import pytest
from django.db import connection, connections

from portal.db_operations import execute_prepared


@pytest.mark.integration
def test_a_statement_prepared_on_a_connection_is_not_prepared_again_for_another_thread(postgres_only):
    # given a statement prepared on the connection one thread's wrapper holds
    with connection.cursor() as cursor:
        execute_prepared(connection, cursor, "pool_probe", "SELECT $1 + 1", (1,), types="int")
        assert cursor.fetchone() == (2,)
        # when the pool hands the same open connection to another thread's wrapper, which runs it
        other = connections.create_connection("default")
        other.connection = connection.connection
        try:
            execute_prepared(other, cursor, "pool_probe", "SELECT $1 + 1", (41,), types="int")
            # then it runs the statement already prepared (PREPARE again: "already exists")
            assert cursor.fetchone() == (42,)
        finally:
            other.connection = None  # (the connection is the test's: not closed by this wrapper)
