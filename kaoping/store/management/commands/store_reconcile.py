from django.core.management.base import BaseCommand

from kaoping.accounts.scoping import system_actor
from kaoping.store.services import accounts_reconcile


class Command(BaseCommand):
    help = (
        "Credit every approved entry that has no credit in its points account yet "
        "(repairs a credit that failed after an approval). Safe to run at any time."
    )

    def handle(self, *args, **options):
        # Not wrapped in a transaction: it commits a chunk of accounts at a time.
        credited = accounts_reconcile(
            acting_user=system_actor(),
            out=self.stdout.write if options["verbosity"] > 1 else None,
        )
        self.stdout.write(f"store reconcile: {credited} entries credited")
