from django.core.management.base import BaseCommand, CommandError

from kaoping.ledger.chain import chain_verify


class Command(BaseCommand):
    help = "Ledger checks: `ledger verify [--region CODE]` walks every village's hash chain."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--region", default="", help="only chains under this region code")

    def handle(self, *args, action, region, **options):
        problems = list(chain_verify(region_prefix=region))
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} broken chain(s); first: {problems[0]}")
        self.stdout.write("ledger verified: every chain is intact")
