from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kaoping.accounts.scoping import system_actor
from kaoping.store.services import accounts_lapse, accounts_reconcile, redemptions_lapse


class Command(BaseCommand):
    help = (
        "The store's daily run: credit missed entries, apply yearly clearings and expiry, and put "
        "uncollected requests back on the shelf. Running it twice a day changes nothing more."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="run as of this day (YYYY-MM-DD); default: today")

    def handle(self, *args, today=None, **options):
        try:
            day = date.fromisoformat(today) if today else None
        except ValueError as exc:
            raise CommandError(f"--today: {exc}") from None
        actor = system_actor()
        # Crediting and lapsing commit a chunk of accounts at a time, so they run outside a
        # transaction; putting requests back is one.
        credited = accounts_reconcile(acting_user=actor)
        lapsed = accounts_lapse(today=day, acting_user=actor)
        with transaction.atomic(durable=True):
            cancelled = redemptions_lapse(today=day, acting_user=actor)
        self.stdout.write(f"credited {credited} entries")
        for code, count in sorted(lapsed.items()):
            self.stdout.write(f"{code}: {count} accounts cleared or expired")
        self.stdout.write(f"{cancelled} uncollected requests cancelled")
