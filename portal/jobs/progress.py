"""Progress a running job reports while its own work stays in one transaction.

An import writes every customer in one transaction, so that a failure leaves nothing behind;
a counter written inside that transaction would stay invisible to the progress page until the
end. On PostgreSQL the counter is therefore written through a second connection of its own, in
autocommit. On SQLite (the embedded default, where the job runs in a thread of the server) a
second connection cannot write while the job holds the write lock, so a count inside a
transaction is skipped: the bar moves between the job's steps.
"""

import time

from django.db import DEFAULT_DB_ALIAS, connection, connections

from portal.jobs.models import Job


class Progress:
    """Call it with ``(done, total=None, phase=None)``; writes at most every ``interval`` seconds
    (and always the first and the last report), so a loop may call it for every row."""

    def __init__(self, job_id, *, interval=0.5):
        self.job_id = job_id
        self.interval = interval
        self._last = 0.0
        self._side = None
        self.done = 0
        self.total = 0
        self.phase = None

    def __call__(self, done, total=None, phase=None):
        if total is not None:
            self.total = total
        self.done = min(done, self.total)
        changed_phase = phase is not None and phase != self.phase
        if phase is not None:
            self.phase = phase
        now = time.monotonic()
        if changed_phase or self.done >= self.total or now - self._last >= self.interval:
            self._last = now
            self._write()

    def _write(self):
        values = {"done": self.done, "total": self.total}
        if self.phase is not None:
            values["phase"] = self.phase[:100]
        if not connection.in_atomic_block:
            Job.objects.filter(pk=self.job_id).update(**values)
        elif connection.vendor == "postgresql":
            columns = ", ".join(f"{connection.ops.quote_name(name)} = %s" for name in values)
            with self._side_connection().cursor() as cursor:  # identifiers quoted, values bound
                cursor.execute(
                    f"UPDATE {connection.ops.quote_name(Job._meta.db_table)} SET {columns} WHERE id = %s",  # noqa: S608
                    [*values.values(), self.job_id],
                )

    def _side_connection(self):
        if self._side is None:
            wrapper = connections[DEFAULT_DB_ALIAS]
            self._side = type(wrapper)(dict(wrapper.settings_dict), alias="jobs-progress")
        return self._side

    def close(self):
        if self._side is not None:
            self._side.close()
            self._side = None
