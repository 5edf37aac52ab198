"""``manage.py verify_audit``: walk every history chain; name the first row that does not match.

Exit status 0 when every chain holds, 1 when one does not (each broken table is named with its
first bad row). ``--export FILE`` also checks that every row of an audit export (JSON) is still
in the database with the hash it was exported with.
"""

import json

from django.core.management.base import BaseCommand, CommandError

from portal.audit import chain


class Command(BaseCommand):
    help = "Verify the tamper-evident chain of every history table (exit 1 on the first mismatch)."

    def add_arguments(self, parser):
        parser.add_argument("--export", help="An audit export (JSON) whose rows must still be as exported.")

    def handle(self, *args, **options):
        checked, breaks = chain.verify_all()
        problems = [str(b) for b in breaks]
        if options.get("export"):
            try:
                with open(options["export"], encoding="utf-8") as handle:
                    exported = json.load(handle)
                rows = exported["changes"]
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(f"Cannot read the export {options['export']}: {exc}") from None
            for label, history_id, problem in chain.check_export(rows):
                problems.append(f"{label} history row {history_id} of the export: {problem}")
        head, chains = chain.ledger_head()
        if problems:
            for problem in problems:
                self.stderr.write(f"MISMATCH {problem}")
            raise CommandError(f"The audit chain is broken: {len(problems)} problem(s); first: {problems[0]}")
        self.stdout.write(
            f"Audit chain intact: {checked} history rows in {chains} chains; ledger head {head}."
        )
