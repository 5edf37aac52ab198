"""``manage.py backup``: the database and the evidence files, with a manifest (portal/backup.py)."""

import os

from django.core.management.base import BaseCommand, CommandError

from portal import backup


class Command(BaseCommand):
    help = "Back up the database and the media root into a new directory under --to."

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            default=os.environ.get("PORTAL_BACKUP_DIR", ""),
            help="where backups go (default: PORTAL_BACKUP_DIR, else var/backups)",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=int(os.environ.get("PORTAL_BACKUP_KEEP", "0") or 0),
            help="afterwards keep only the newest N backups there (default: PORTAL_BACKUP_KEEP, 0 = all)",
        )

    def handle(self, *args, **options):
        from django.conf import settings

        destination = options["to"] or str(settings.VAR_DIR / "backups")
        try:
            path, manifest = backup.backup(destination, keep=options["keep"])
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        size = sum(f["bytes"] for f in manifest["files"].values())
        self.stdout.write(
            f"{path}  ({len(manifest['files'])} files, {size / 1e6:.1f} MB, {manifest['seconds']:.1f} s)"
        )
