from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kaoping.core.periodic import jobs_overview, periodic_jobs_problems, run_due


class Command(BaseCommand):
    help = (
        "Run the periodic jobs (settings.PERIODIC_JOBS) that are due, each at most once per slot "
        "however often this runs: cron `* * * * * kaoping tick`, or a systemd timer. --list shows "
        "the jobs, their last run and when each runs next."
    )

    # Run every minute by cron: only its own check (PERIODIC_JOBS), not the whole system check.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--list", action="store_true", help="show the jobs; run nothing")

    def handle(self, *args, list=False, **options):  # noqa: A002
        problems = periodic_jobs_problems(settings.PERIODIC_JOBS)
        if problems:
            raise CommandError("\n".join(problems))
        if list:
            self._list()
            return
        runs = run_due()
        for run in runs:
            text = run.summary if run.status == run.Status.DONE else run.error
            self.stdout.write(f"{run.name} [{run.slot}] {run.status}: {text}")
        if not runs:
            self.stdout.write("nothing due")
        if any(run.status == run.Status.FAILED for run in runs):
            # Cron mails what a command prints to stderr: say so there too.
            self.stderr.write(
                "failed: " + ", ".join(r.name for r in runs if r.status == r.Status.FAILED)
            )

    def _list(self):
        rows = jobs_overview()
        if not rows:
            self.stdout.write("no periodic jobs (settings.PERIODIC_JOBS is empty)")
        for row in rows:
            job, last = row["job"], row["last"]
            if last is None:
                ran = "never run"
            else:
                when = timezone.localtime(last.started_at).strftime("%Y-%m-%d %H:%M")
                detail = last.summary if last.status == last.Status.DONE else last.error
                ran = f"last {when} [{last.slot}] {last.status}" + (f": {detail}" if detail else "")
            self.stdout.write(
                f"{job.name}  every {job.schedule}  {ran}  next {row['next']:%Y-%m-%d %H:%M}"
                f"  ({job.call})"
            )
