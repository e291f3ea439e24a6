from django.core.management.base import BaseCommand
from django.db import transaction

from kaoping.accounts.scoping import system_actor
from kaoping.periods.services import periods_finalise_due


class Command(BaseCommand):
    help = "Finalise posted periods whose objection window has ended and that nothing blocks (run daily)."

    def handle(self, *args, **options):
        with transaction.atomic(durable=True):
            done = periods_finalise_due(acting_user=system_actor())
        for period in done:
            self.stdout.write(f"finalised {period.scheme.code} {period.label}")
        self.stdout.write(f"{len(done)} period(s) finalised")
