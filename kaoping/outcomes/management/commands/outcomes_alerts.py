from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kaoping.outcomes.selectors import pairing_months_below, pledge_items_overdue


class Command(BaseCommand):
    help = (
        "Print overdue pledge items and pairing months below the minimum of exchanges "
        "(material for the weekly report). Exits 0 either way."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", dest="day", help="report as of this day (YYYY-MM-DD; default today)"
        )
        parser.add_argument(
            "--region", default="", help="only this region code and below (e.g. a township)"
        )
        parser.add_argument(
            "--months", type=int, default=3, help="finished months of pairings to check (3)"
        )

    def handle(self, *args, day: str | None = None, region: str = "", months: int = 3, **options):
        try:
            today = _parse(day)
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        items = list(pledge_items_overdue(today=today, region_prefix=region))
        short = pairing_months_below(today=today, months=months, region_prefix=region)
        self.stdout.write(f"Overdue pledge items as of {today.isoformat()}: {len(items)}")
        for item in items:
            pledge = item.pledge
            late = (today - item.deadline).days
            self.stdout.write(
                f"  {pledge.subject.region.code} {pledge.subject.name} "
                f"[{pledge.period.scheme.code} {pledge.period.label}] {item.text} — "
                f"{item.owner}, due {item.deadline.isoformat()} ({late} days late)"
            )
        self.stdout.write(f"Pairing months below the minimum: {len(short)}")
        for check in short:
            pairing = check.pairing
            self.stdout.write(
                f"  {pairing.weak.region.code} {pairing.strong.name} → {pairing.weak.name} "
                f"{check.month:%Y-%m}: {check.count} of {pairing.min_per_month} exchanges"
            )


def _parse(text: str | None) -> date:
    return date.fromisoformat(text) if text else timezone.localdate()
