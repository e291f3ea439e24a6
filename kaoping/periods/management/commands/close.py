from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.models import Scheme


class Command(BaseCommand):
    help = (
        "Close a period of a scheme: `close SCHEME PERIOD` (e.g. close household-points 2026-03)."
    )

    def add_arguments(self, parser):
        parser.add_argument("scheme", help="scheme code")
        parser.add_argument("period", help="2026-03, 2026-Q1, 2026-H1 or 2026")

    def handle(self, *args, scheme, period, **options):
        found = Scheme.objects.filter(code=scheme).first()
        if found is None:
            known = ", ".join(Scheme.objects.values_list("code", flat=True)) or "none loaded"
            raise CommandError(f"no scheme {scheme!r} (known: {known})")
        actor = system_actor()
        try:
            with transaction.atomic(durable=True):
                opened = period_open(scheme=found, label=period, acting_user=actor)
                counts = period_close(period=opened, acting_user=actor)
        except (KaopingError, ValueError) as exc:
            raise CommandError(
                exc.messages[0] if isinstance(exc, KaopingError) else str(exc)
            ) from exc
        self.stdout.write(f"{found.code} {period}: {counts['results']} results")
