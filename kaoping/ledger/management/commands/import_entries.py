from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kaoping.core.errors import KaopingError
from kaoping.ledger.imports import import_commit, import_upload
from kaoping.ledger.models import ImportStatus
from kaoping.schemes.models import Scheme


class Command(BaseCommand):
    help = (
        "Check an Excel (or CSV) file of entries for a scheme, and with --commit import it: "
        "all rows or none. `import_entries SCHEME FILE --user NAME [--commit]`."
    )

    def add_arguments(self, parser):
        parser.add_argument("scheme", help="scheme code")
        parser.add_argument("file", help=".xlsx made from the scheme's template, or .csv")
        parser.add_argument(
            "--user",
            required=True,
            help="login of the person importing: their area limits the rows, the audit names them",
        )
        parser.add_argument("--commit", action="store_true", help="import when the check passes")

    def handle(self, *args, scheme, file, user, commit, **options):
        found = Scheme.objects.filter(code=scheme).select_related("region").first()
        if found is None:
            known = ", ".join(Scheme.objects.values_list("code", flat=True)) or "none loaded"
            raise CommandError(f"no scheme {scheme!r} (known: {known})")
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {user!r}")
        path = Path(file)
        try:
            data = path.read_bytes()
            with transaction.atomic(durable=True):
                job = import_upload(scheme=found, data=data, filename=path.name, acting_user=actor)
            self._report(job, path)
            if not commit:
                self.stdout.write(f"{job.rows_total} rows checked (job {job.pk}); --commit imports")
                return
            # Not wrapped: the import commits its progress as it goes, and writes in one
            # transaction of its own.
            job = import_commit(job, acting_user=actor)
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        except KaopingError as exc:
            raise CommandError(exc.messages[0]) from exc
        self._report(job, path)
        self.stdout.write(f"imported {job.rows_done} entries (job {job.pk})")

    def _report(self, job, path: Path) -> None:
        if not job.errors or job.status == ImportStatus.COMMITTED:
            return
        for error in job.errors:
            where = f"{error['row']}:{error['column']}" if error["row"] else "file"
            self.stderr.write(f"{path.name}:{where}: {error['message']}")
        raise CommandError(f"{len(job.errors)} problems; nothing was imported (job {job.pk})")
