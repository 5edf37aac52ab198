"""``manage.py restore <backup>``: replace the database and the evidence files with a backup's."""

import time

from django.core.management.base import BaseCommand, CommandError

from portal import backup


class Command(BaseCommand):
    help = "Check a backup against its manifest, then replace the database and the media root with it."

    def add_arguments(self, parser):
        parser.add_argument("backup", help="a portal-backup-… directory")
        parser.add_argument("--verify-only", action="store_true", help="check the checksums, change nothing")
        parser.add_argument("--yes", action="store_true", help="do not ask before replacing the data")

    def handle(self, *args, **options):
        started = time.monotonic()
        try:
            if options["verify_only"]:
                manifest = backup.verify(options["backup"])
                self.stdout.write(f"OK: {len(manifest['files'])} files match the manifest.")
                return
            if (
                not options["yes"]
                and input(
                    "This replaces the database and every evidence file with the backup's. Type 'restore': "
                )
                != "restore"
            ):
                raise CommandError("Nothing restored.")
            manifest = backup.restore(options["backup"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} ({len(manifest['files'])} files) "
            f"in {time.monotonic() - started:.1f} s. Run 'manage.py migrate' if this code is newer."
        )
