from django.core.management.base import BaseCommand

from kaoping.store.services import accounts_reconcile


class Command(BaseCommand):
    help = (
        "Credit every approved entry that has no credit in its points account yet "
        "(repairs a credit that failed after an approval). Safe to run at any time."
    )

    def handle(self, *args, **options):
        credited = accounts_reconcile(out=self.stdout.write if options["verbosity"] > 1 else None)
        self.stdout.write(f"store reconcile: {credited} entries credited")
