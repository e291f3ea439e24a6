from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kaoping.core.backup import backup_restore
from kaoping.core.errors import KaopingError


class Command(BaseCommand):
    help = (
        "Replace the database and MEDIA_ROOT with a backup written by `kaoping backup`. "
        "Stop the server and the periodic jobs first."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument(
            "--yes", action="store_true", help="really replace all current data with the backup"
        )

    def handle(self, *args, archive, yes, **options):
        if not yes:
            raise CommandError(
                _(
                    "A restore replaces all current data and evidence files with the backup. "
                    "Run it again with --yes when you are sure."
                )
            )
        try:
            manifest = backup_restore(Path(archive))
        except KaopingError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _(
                "Restored the backup of %(created)s (%(count)d files). "
                "Now run `kaoping migrate` and `kaoping ledger verify`."
            )
            % {"created": manifest.created, "count": manifest.media_count}
        )
