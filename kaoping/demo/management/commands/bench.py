from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Benchmarks at province scale on a database of their own (SQLite file under var/bench, "
        "or kaoping_bench on the PostgreSQL server of DATABASE_URL): close | import | web | visits."
    )
    requires_system_checks = []  # the parent never opens a database; children do the work

    def add_arguments(self, parser):
        parser.add_argument("benchmark", choices=["close", "import", "web", "visits"])
        parser.add_argument("--households", type=int, default=1_000_000, help="default 1000000")
        parser.add_argument(
            "--entries-per-household", type=int, default=20, help="per month, default 20"
        )
        parser.add_argument("--villages", type=int, default=20_000, help="六比六争 villages")
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data")
        parser.add_argument(
            "--out", type=Path, default=None, help="where the .md and .json go (var/bench/results)"
        )
        parser.add_argument("--rows", type=int, default=100_000, help="import: rows in the file")
        parser.add_argument("--seconds", type=int, default=15, help="web: seconds of load per page")
        parser.add_argument(
            "--connections", type=int, default=2, help="web: concurrent connections (default 2)"
        )
        parser.add_argument(
            "--requests",
            type=int,
            default=None,
            help="web: a fixed number of requests per page with the Python client instead of wrk",
        )

    def handle(self, *args, benchmark: str, **options):
        from bench import close, importing, visits, web
        from bench.data import Shape

        if options["households"] < 1 or options["entries_per_household"] < 1:
            raise CommandError("--households and --entries-per-household must be positive.")
        shape = Shape(
            households=options["households"],
            entries_per_household=options["entries_per_household"],
            villages=options["villages"],
            seed=options["seed"],
        )
        out_dir = options["out"] or Path(settings.DATA_DIR) / "bench" / "results"

        def echo(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        if benchmark == "close":
            result = close.run(shape, out_dir, echo)
            if not result["agree"]:
                raise CommandError("kaoping, raw SQL and DuckDB disagree: see the report.")
        elif benchmark == "import":
            result = importing.run(shape, out_dir, echo, rows=options["rows"])
            if not result["ok"]:
                raise CommandError("the import did not commit cleanly: see the report.")
        elif benchmark == "visits":
            result = visits.run(shape, out_dir, echo)
            if not result["agree"]:
                raise CommandError("kaoping and raw SQL disagree on coverage: see the report.")
        else:
            web.run(
                shape,
                out_dir,
                echo,
                seconds=options["seconds"],
                connections=options["connections"],
                requests=options["requests"],
            )
