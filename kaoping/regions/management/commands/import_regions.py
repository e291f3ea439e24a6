from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import ImportFailed
from kaoping.regions.services import regions_import_file


class Command(BaseCommand):
    help = "Import the official division list (CSV or Excel with columns 代码, 名称): all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        path = Path(file)
        try:
            data = path.read_bytes()
            with transaction.atomic(durable=True):
                counts = regions_import_file(
                    data=data, filename=path.name, acting_user=system_actor()
                )
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except ImportFailed as exc:
            for error in exc.errors:
                self.stderr.write(f"{path.name}:{error}")
            raise CommandError(f"{len(exc.errors)} problems; nothing was imported") from exc
        self.stdout.write(
            "created {created}, renamed {renamed}, unchanged {unchanged}".format(**counts)
        )
