"""The party-member 三评 (schemes/sanping.yaml) closed end to end: the branch's monthly result,
the masses' quarterly and the mutual half-yearly ones recorded as evaluations write them (through
a Recorder, at the roll-up cadence that has a `self` part), months, quarters, half-years and the
year closed, and the year = 40 % month mean + 30 % quarter mean + 30 % half-year mean, rounded
once (docs/schemes.md §9); the half-year's 互评优秀 ranks by PY03; the explain page shows the
evaluation behind an entry and the pools of the year."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from kaoping.accounts.scoping import system_actor
from kaoping.evaluations.models import RoundResult
from kaoping.evaluations.testing import evaluation_world
from kaoping.ledger.models import EntrySource
from kaoping.ledger.services import EntryDraft, Recorder, entries_write
from kaoping.people.models import Subject
from kaoping.periods.models import ListMembership, Period, Result
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.calendar import labels_within
from kaoping.schemes.scoring import round_half_away

pytestmark = pytest.mark.django_db

D = Decimal


def evaluated(scheme, subject, item, value, *, on, cadence=""):
    """One evaluation result written as the evaluations module writes it."""
    recorder = Recorder(scheme=scheme, acting_user=system_actor(), source=EntrySource.EVALUATION)
    draft = EntryDraft(
        subject=subject, item_code=item, occurred_on=on, quantity=D(value), cadence=cadence
    )
    assert recorder.problems(draft) == {}
    with transaction.atomic():
        return entries_write(
            entries=[recorder.build(draft)], acting_user=system_actor(), recorder=recorder
        )[0]


def close(scheme, label) -> Period:
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return Period.objects.get(pk=period.pk)


def points(period, subject) -> Decimal:
    return period.version.to_points(Result.objects.get(period=period, subject=subject).total)


@dataclass
class Year:
    world: object
    year: int
    months: list[Period]
    quarters: list[Period]
    halves: list[Period]
    total: Period
    masses_entry: object


# 王建国's results on the five-point scale (× 20 points): the branch each month, the masses each
# quarter (none in Q4: a pool that did not sit), the members each half-year.
BRANCH = ["4.5", "4", "3.5", "4.2", "4.8", "3", "4", "4.4", "3.6", "5", "4.1", "4.3"]
MASSES = ["4.2", "3.8", "4.6", None]
MUTUAL = ["4.25", "3.9"]


def build_year(county) -> Year:
    """The 三评 of last year recorded and closed in `county` (see the module's docstring)."""
    world = evaluation_world(county)
    scheme = world.scheme
    # Last year, so that every day is in the past whenever the test runs.
    y = timezone.localdate().year - 1
    wang = world.subject
    li = Subject.objects.get(kind="party_member", person=county.persons["李秀英"])
    for month, value in enumerate(BRANCH, start=1):
        evaluated(scheme, wang, "PY01", value, on=date(y, month, 25))
    # Two 主题党日 in March: + 4 in the bonus group (HD, max 10).
    for day in (5, 19):
        evaluated(scheme, wang, "HD01", "1", on=date(y, 3, day))
    masses_entry = None
    for quarter, value in enumerate(MASSES):
        if value is not None:
            entry = evaluated(
                scheme, wang, "PY02", value, on=date(y, 3 * quarter + 3, 20), cadence="quarter"
            )
            masses_entry = masses_entry or entry
    for half, value in enumerate(MUTUAL):
        evaluated(scheme, wang, "PY03", value, on=date(y, 6 * half + 6, 28), cadence="half_year")
    # 李秀英 ties 王建国 on the first half-year's 互评 and has nothing else.
    evaluated(scheme, li, "PY03", MUTUAL[0], on=date(y, 6, 28), cadence="half_year")
    start, end = date(y, 1, 1), date(y, 12, 31)
    months = [close(scheme, label) for label in labels_within("month", start, end)]
    quarters = [close(scheme, label) for label in labels_within("quarter", start, end)]
    halves = [close(scheme, label) for label in labels_within("half_year", start, end)]
    total = close(scheme, str(y))
    return Year(world, y, months, quarters, halves, total, masses_entry)


@pytest.fixture
def year(county) -> Year:
    return build_year(county)


def test_each_level_scores_only_what_was_recorded_for_it(year):
    wang = year.world.subject
    # Months: the branch's result × 20, and March's two 主题党日 (2 points each).
    expected = [D(v) * 20 for v in BRANCH]
    expected[2] += 4
    assert [points(p, wang) for p in year.months] == expected
    # Quarters and half-years: their own evaluation only, no month's entry.
    assert [points(p, wang) for p in year.quarters] == [D(v) * 20 if v else D(0) for v in MASSES]
    assert [points(p, wang) for p in year.halves] == [D(v) * 20 for v in MUTUAL]


def test_the_year_weighs_the_three_pools_forty_thirty_thirty(year):
    wang = year.world.subject
    months = [Fraction(points(p, wang)) for p in year.months]
    quarters = [Fraction(points(p, wang)) for p in year.quarters]
    halves = [Fraction(points(p, wang)) for p in year.halves]
    exact = (
        Fraction(4, 10) * sum(months) / 12
        + Fraction(3, 10) * sum(quarters) / 4
        + Fraction(3, 10) * sum(halves) / 2
    )
    # 0.4 × 992 / 12 + 0.3 × 252 / 4 + 0.3 × 163 / 2 = 33.0666… + 18.9 + 24.45 = 76.4166…
    assert (sum(months), sum(quarters), sum(halves)) == (992, 252, 163)
    assert points(year.total, wang) == round_half_away(exact, 2) == D("76.42")
    # Nobody else was rated: 0 on every pool.
    other = year.world.other_subject
    assert points(year.total, other) == 0


def test_the_mutual_list_of_a_half_year_ranks_by_py03(year, county):
    wang = year.world.subject
    li = Subject.objects.get(kind="party_member", person=county.persons["李秀英"])
    zhao = year.world.other_subject
    first, second = year.halves
    on_first = set(
        ListMembership.objects.filter(period=first, list_code="huping").values_list(
            "subject_id", "value"
        )
    )
    scale = first.version.scale
    # 东岭街道's four members: ⌊4 × 20 %⌋ → at least one place, and 王建国 and 李秀英 tie on it
    # at 85, so both are on it. 西溪's only member has a place of his own (a ranking group of
    # one, at least one place), with 0.
    assert on_first == {(wang.pk, 85 * scale), (li.pk, 85 * scale), (zhao.pk, 0)}
    on_second = set(
        ListMembership.objects.filter(period=second, list_code="huping").values_list(
            "subject_id", flat=True
        )
    )
    assert on_second == {wang.pk, zhao.pk}
    # Made on half-years only.
    assert not ListMembership.objects.filter(
        period__in=[*year.months, *year.quarters, year.total], list_code="huping"
    ).exists()


def test_explain_shows_the_evaluation_behind_an_entry(year, client_for, county):
    world = year.world
    masses = world.masses
    RoundResult.objects.create(
        round=masses,
        subject=world.subject,
        value=D("4.20"),
        ballots=31,
        eligible=40,
        valid=True,
        entry=year.masses_entry,
    )
    quarter = year.quarters[0]
    url = reverse("periods:explain", args=[quarter.pk, world.subject.pk])
    response = client_for(county, "carol").get(url)
    html = response.content.decode()
    assert response.status_code == 200
    # "群众测评 4.20（31 票）" under PY02, the quarter's own item; not the months' PY01 entries.
    assert f"{masses.name} 4.20" in html and "31" in html
    assert html.count('class="evaluation"') == 1
    try:
        round_url = reverse("evaluations:round", args=[masses.pk])
    except NoReverseMatch:  # the round's page is being built beside this
        round_url = None
    if round_url:
        assert f'href="{round_url}"' in html
    node = response.context["nodes"]
    py01 = next(n for n in node if n.node.code == "PY01")
    assert py01.entries == []


def test_explain_of_the_year_shows_its_three_pools(year, client_for, county):
    url = reverse("periods:explain", args=[year.total.pk, year.world.subject.pk])
    response = client_for(county, "carol").get(url)
    parts = response.context["parts"]
    assert [(p.source, p.percent, p.periods) for p in parts] == [
        ("month", "40%", 12),
        ("quarter", "30%", 4),
        ("half_year", "30%", 2),
    ]
    assert [p.value for p in parts] == [D("82.67"), D("63.00"), D("81.50")]
    # A composite of shorter periods has no tree of its own to show.
    assert response.context["nodes"] == []
    assert 'id="part-half_year"' in response.content.decode()


def test_one_query_finds_the_evaluations_of_all_entries(
    year, client_for, county, django_assert_max_num_queries
):
    url = reverse("periods:explain", args=[year.months[2].pk, year.world.subject.pk])
    client = client_for(county, "carol")
    client.get(url)
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    month = [q["sql"] for q in few.captured_queries if "evaluations_roundresult" in q["sql"]]
    assert len(month) == 1
