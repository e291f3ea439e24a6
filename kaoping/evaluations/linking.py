"""一联: a party member's linked households, the services they render them, and the metric
`member_household_coverage` the shipped village schemes score by bands.

A member links households (`PartyMember.linked_households`, kept by the people register) and
serves them: a visit, a small wish fulfilled, a problem carried to the village. Each service is a
`LinkService` row recorded by the village's staff (`link_service_record`). A member's coverage in
a span is the share of the households they link that they served at least once in it:

    served households (distinct, with a service dated in the span) ÷ linked households × 100

in per cent, two places, rounded half away from zero like every score. A village's (or its
team's) coverage adds its members' households up — Σ served ÷ Σ linked — so that a member who
links twelve households weighs more than one who links two; a party member's (or a cadre's, when
the cadre is a member) is their own. A subject whose members link no household gets no value:
there is nothing to cover, and the metric item's no-data rule (0 points) applies, as for a
figure never reported.

The module pushes the metric before every close (`link_coverage_push`, listed in
`settings.PERIOD_HOOKS["before_close"]`, the name in `settings.PUSHED_METRICS`): the close
counts the services dated inside the period being closed, a month for a month, a quarter for a
quarter.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from kaoping.accounts.scoping import ensure
from kaoping.core.audit import audit_record
from kaoping.core.errors import KaopingError
from kaoping.core.fields import subtree_q
from kaoping.core.limits import text_problem
from kaoping.core.privacy import mask_name
from kaoping.ledger.models import MetricValue
from kaoping.ledger.services import metric_values_put
from kaoping.people.models import Household, PartyMember, Subject
from kaoping.schemes.models import SchemeNode
from kaoping.schemes.scoring import round_half_away

from .models import LinkService

LINK_METRIC = "member_household_coverage"
NOTE_MAX = 200  # LinkService.note
PERCENT_PLACES = 2
# Subjects whose value is their village's members added up, and those whose value is their own
# person's (a cadre who is a party member).
BY_VILLAGE_KINDS = ("village", "team")
BY_PERSON_KINDS = ("party_member", "cadre")


def earliest_service_day(today: date) -> date:
    """A service may be recorded late, but not before the first day of last year."""
    return date(today.year - 1, 1, 1)


def household_label(household: Household) -> str:
    """How a household is named on 一联's pages: its head's masked name and its address
    ("徐*家 · 龙井村3组12号"); the household number stands in for a missing address."""
    where = household.address.strip() or household.number
    if household.head_id:
        head = _("%(head)s's household") % {"head": mask_name(household.head.name)}
        return f"{head} · {where}"
    return where


def link_service_record(
    *, member: PartyMember, household: Household, served_on: date, note: str, acting_user
) -> LinkService:
    """Record that `member` served `household`, one of the households they link, on
    `served_on`: what was done in `note`. Village staff (`evaluation.service` on the member)."""
    ensure(acting_user, "evaluation.service", member)
    note = (note or "").strip()
    today = timezone.localdate()
    problems: dict[str, str] = {}
    if not member.linked_households.filter(pk=household.pk).exists():
        problems["household"] = _(
            "%(household)s is not one of the households %(member)s links."
        ) % {
            "household": household_label(household),
            "member": member.person.name,
        }
    if served_on > today:
        problems["served_on"] = _("The day of the service is after today.")
    elif served_on < earliest_service_day(today):
        problems["served_on"] = _("A service before %(day)s can no longer be recorded.") % {
            "day": earliest_service_day(today).isoformat()
        }
    if not note:
        problems["note"] = _("Say what was done for the household.")
    elif len(note) > NOTE_MAX:
        problems["note"] = _("At most %(n)d characters.") % {"n": NOTE_MAX}
    elif problem := text_problem(note):
        problems["note"] = _("This text %(problem)s.") % {"problem": problem}
    if problems:
        raise KaopingError(problems)
    with transaction.atomic():
        # A second tap on the button records nothing twice.
        if LinkService.objects.filter(
            member=member, household=household, served_on=served_on, note=note
        ).exists():
            raise KaopingError(_("This service is already recorded."))
        service = LinkService.objects.create(
            member=member,
            household=household,
            served_on=served_on,
            note=note,
            recorded_by=acting_user,
        )
        audit_record(
            actor=acting_user,
            action="evaluation.service.recorded",
            obj=service,
            region_code=member.region.code,
            object_repr=f"{mask_name(member.person.name)} → {household.number}",
            after={"household": household.number, "served_on": served_on.isoformat(), "note": note},
        )
    return service


# --- coverage -----------------------------------------------------------------------------------


def percent(served: int, linked: int) -> Decimal | None:
    """served ÷ linked in %, two places, half away from zero; None when nothing is linked."""
    if not linked:
        return None
    return round_half_away(Decimal(served * 100) / Decimal(linked), PERCENT_PLACES)


@dataclass
class Coverage:
    """Linked households and those served in a span, of a member or of a village."""

    linked: int
    served: int

    @property
    def percent(self) -> Decimal | None:
        return percent(self.served, self.linked)

    @property
    def not_served(self) -> int:
        return self.linked - self.served


def _links(members: QuerySet, start: date, end: date) -> QuerySet:
    """The (member, household) links of `members`, each marked `seen` when the member served the
    household on a day in [start, end]."""
    through = PartyMember.linked_households.through
    served = LinkService.objects.filter(
        member_id=OuterRef("partymember_id"),
        household_id=OuterRef("household_id"),
        served_on__gte=start,
        served_on__lte=end,
    )
    return (
        through.objects.filter(partymember__in=members.values("pk"))
        .annotate(seen=Exists(served))
        .order_by()
    )


def _grouped(members: QuerySet, start: date, end: date, by: str) -> dict:
    rows = (
        _links(members, start, end)
        .values(by)
        .annotate(
            n=Count("pk"),
            s=Coalesce(Sum(Value(1), filter=Q(seen=True)), 0, output_field=IntegerField()),
        )
        .values_list(by, "n", "s")
    )
    return {key: Coverage(linked=n, served=s) for key, n, s in rows}


def member_coverage(members: QuerySet, *, start: date, end: date) -> dict[int, Coverage]:
    """{member id: Coverage} of the `members` who link households, in one grouped query."""
    return _grouped(members, start, end, "partymember_id")


def village_coverage(members: QuerySet, *, start: date, end: date) -> dict[str, Coverage]:
    """{village code: Coverage} of `members` added up by their village, in one grouped query."""
    return _grouped(members, start, end, "partymember__region__code")


def subject_link_coverage(*, kind: str, prefix: str, start: date, end: date) -> dict[int, Decimal]:
    """{subject id: coverage %} of the active subjects of `kind` under the region code `prefix`
    whose members link households: two queries whatever the number of subjects. Kinds other
    than villages, teams, party members and cadres get nothing."""
    subjects = Subject.objects.filter(kind=kind, active=True).filter(
        subtree_q("region__code", prefix)
    )
    members = PartyMember.objects.filter(subtree_q("region__code", prefix))
    if kind in BY_VILLAGE_KINDS:
        figures = village_coverage(members, start=start, end=end)
        pairs = subjects.values_list("pk", "region__code")
    elif kind in BY_PERSON_KINDS:
        by_member = member_coverage(members, start=start, end=end)
        person_of = dict(
            PartyMember.objects.filter(pk__in=list(by_member)).values_list("pk", "person_id")
        )
        figures = {person_of[pk]: figure for pk, figure in by_member.items()}
        pairs = subjects.filter(person_id__in=list(figures)).values_list("pk", "person_id")
    else:
        return {}
    values = {}
    for pk, key in pairs:
        figure = figures.get(key)
        if figure is not None and figure.percent is not None:
            values[pk] = figure.percent
    return values


def link_coverage_push(period, spec, acting_user) -> int:
    """Push `member_household_coverage` of every subject of `period` before its close (a
    `before_close` hook; joins the close's transaction). Returns the values pushed.

    The figure is this module's, so it replaces whatever stood for the period: a subject whose
    members link no household is left without one. Nothing is pushed over a posted or final
    period (its figures are what was posted) or for a scheme that does not use the metric.
    """
    ensure(acting_user, "period.close", period)
    if period.status in ("posted", "final"):
        return 0
    if not SchemeNode.objects.filter(version_id=period.version_id, metric=LINK_METRIC).exists():
        return 0
    region = period.scheme.region.code
    values = subject_link_coverage(
        kind=period.scheme.subject_kind, prefix=region, start=period.start, end=period.end
    )
    with transaction.atomic():
        MetricValue.objects.filter(
            scheme_id=period.scheme_id, period_label=period.label, metric=LINK_METRIC
        ).delete()
        pushed = metric_values_put(
            scheme=period.scheme,
            period_label=period.label,
            values=[(Subject(pk=pk), LINK_METRIC, value) for pk, value in values.items()],
        )
        audit_record(
            actor=acting_user,
            action="evaluation.link_coverage.pushed",
            obj=period,
            region_code=region,
            after={"metrics": [LINK_METRIC], "subjects": len(values)},
        )
    return pushed
