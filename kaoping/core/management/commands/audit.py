from django.core.management.base import BaseCommand, CommandError

from kaoping.core.audit import audit_verify


class Command(BaseCommand):
    help = "Audit log checks: `audit verify [--region CODE]` walks every county's audit chain."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])
        parser.add_argument("--region", default="", help="only chains of counties under this code")

    def handle(self, *args, action, region, **options):
        problems = list(audit_verify(key_prefix=region[:6]))
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(f"{len(problems)} broken audit chain(s); first: {problems[0]}")
        self.stdout.write("audit log verified: every chain is intact")
