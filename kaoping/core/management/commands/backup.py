from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kaoping.core.backup import backup_default_name, backup_write
from kaoping.core.errors import KaopingError


class Command(BaseCommand):
    help = "Write the database and the evidence files (MEDIA_ROOT) to one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument(
            "output", nargs="?", help="archive path (default kaoping-<date>-<time>.tar.gz here)"
        )

    def handle(self, *args, output, **options):
        path = Path(output or backup_default_name())
        try:
            manifest = backup_write(path)
        except KaopingError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("Backup written: %(path)s (%(engine)s database, %(count)d files)")
            % {"path": path, "engine": manifest.engine, "count": manifest.media_count}
        )
