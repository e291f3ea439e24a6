import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from config.secret import secret_key_store
from kaoping.demo.generator import (
    COUNTY_NAME,
    DEMO_LOGINS,
    DEMO_PASSWORD,
    MIN_HOUSEHOLDS_PER_VILLAGE,
    Build,
    demo_build,
    demo_exists,
    estimate,
    format_table,
    login_rows,
)
from kaoping.demo.names import TOWNSHIPS
from kaoping.demo.reset import wipe_all
from kaoping.regions.models import Region

VILLAGE_COUNT = sum(len(spec.communities) + len(spec.villages) for spec in TOWNSHIPS)


class Command(BaseCommand):
    help = "Build the demo county 瓯海区: regions, departments, households, cadres, grids, logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=1, help="same seed, same data (default 1)")
        parser.add_argument("--households", type=int, default=20_000, help="default 20000")
        parser.add_argument(
            "--rebuild",
            action="store_true",
            help="first delete ALL data of the kaoping apps and all users",
        )
        parser.add_argument("--batch-size", type=int, default=5_000, help="rows per bulk insert")
        parser.add_argument(
            "--without-scores",
            action="store_true",
            help="only the county and its people: no schemes, entries or closed periods",
        )

    def handle(
        self,
        *args,
        seed: int,
        households: int,
        rebuild: bool,
        batch_size: int,
        without_scores: bool,
        **options,
    ):
        if not settings.SECRET_KEY_SOURCE:
            # The quick start's server refuses to run on a key nobody chose: choose one for this
            # laptop, kept in the data directory (production sets SECRET_KEY).
            secret_key_store(settings.DATA_DIR)
        minimum = MIN_HOUSEHOLDS_PER_VILLAGE * VILLAGE_COUNT
        if households < minimum:
            raise CommandError(f"--households must be at least {minimum}.")
        if demo_exists() and not rebuild:
            self.stdout.write("demo county already exists (use --rebuild to build it again)")
            self._print_logins()
            return
        if not rebuild:
            clashing = get_user_model().objects.filter(username__in=DEMO_LOGINS).exists()
            if Region.objects.exists() or clashing:
                raise CommandError(
                    "The database already holds regions or demo usernames; "
                    "--rebuild deletes all kaoping data and users first."
                )

        started = time.monotonic()
        if rebuild:
            deleted = wipe_all()
            self.stdout.write(f"deleted {deleted:,} rows ({time.monotonic() - started:.1f} s)")
        if connection.vendor == "sqlite":
            # A bigger page cache keeps the name and ID-number indexes in memory while millions
            # of rows go in, and the log is copied back every 80 MB rather than every 4 MB;
            # for this connection only.
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size = -131072")
                cursor.execute("PRAGMA wal_autocheckpoint = 20000")
        build = Build(
            seed=seed,
            households=households,
            batch_size=batch_size,
            out=self.stdout.write,
            scores=not without_scores,
        )
        self.stdout.write(
            f"building {COUNTY_NAME}: {households:,} households, seed {seed}; "
            f"{estimate(households, not without_scores)} on a 2-core machine "
            f"(measured, approximate)"
        )
        demo_build(build)
        self.stdout.write(
            self.style.SUCCESS(f"demo county built in {time.monotonic() - started:.1f} s")
        )
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write(f"\nDemo logins (password: {DEMO_PASSWORD})")
        for line in format_table(login_rows(), ("username", "role", "scope")):
            self.stdout.write(line)
