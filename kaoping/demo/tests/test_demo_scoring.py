"""The demo's year of scoring (`build_scoring`): schemes loaded, a plausible ledger, periods closed.

The step runs its services in transactions of their own once the step's transaction has
committed, so it cannot run inside a test's transaction. The demo is therefore built outside any
test, committed to the test database, shared with the sweep (kaoping/console/tests/test_sweep.py)
and deleted after it: the fixture `demo_year` of kaoping/conftest.py. The SQLite pass builds it
twice (same seed) so that a test can compare the two. The tests only read it.
"""

from collections import Counter, defaultdict
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, F, Sum

from kaoping.conftest import DEMO_YEAR_HOUSEHOLDS, SECOND_ENGINE
from kaoping.demo.scoring import CLOSED_UNTIL, FED_METRICS, HISTORY, TODAY, YEAR_START
from kaoping.demo.testing import shipped_specs
from kaoping.ledger.chain import chain_verify
from kaoping.ledger.models import Entry, MetricValue
from kaoping.people.models import Subject
from kaoping.periods.metrics import COMPUTED
from kaoping.periods.models import ListMembership, Period, Result
from kaoping.periods.testing import node_rows, result_nodes
from kaoping.regions.models import Region
from kaoping.schemes.calendar import labels_within, period_dates
from kaoping.schemes.models import Scheme, SchemeNode
from kaoping.schemes.sources import source_items
from kaoping.schemes.spec import Rule

pytestmark = pytest.mark.django_db  # sets up the test database; each test's writes roll back

SPECS = shipped_specs()


@pytest.fixture
def demo(demo_year):
    return demo_year.output


def expected_closed(spec) -> set[tuple[str, str]]:
    """(cadence, label) the demo closes: the scheme's own periods and its roll-ups that end by
    the end of October 2026, from 2026 on (the contest from 2025 on); never the year 2026,
    which is not over."""
    cadences = [str(spec.cadence), *(str(r.cadence) for r in spec.rollups)]
    first = HISTORY.get(spec.code, YEAR_START)
    return {
        (cadence, label)
        for cadence in cadences
        for label in labels_within(cadence, first, CLOSED_UNTIL)
        if period_dates(cadence, label)[1] <= CLOSED_UNTIL
    }


def scored(kind: str) -> int:
    return Subject.objects.filter(kind=kind, active=True, region__code__startswith="330304").count()


def test_every_shipped_scheme_is_loaded_by_the_county_login(demo):
    assert "build_scoring:" in demo
    assert "entries" in demo and "periods closed" in demo
    assert set(Scheme.objects.values_list("code", flat=True)) == set(SPECS)
    county = get_user_model().objects.get(username="county")
    for scheme in Scheme.objects.all():
        version = scheme.latest_version()
        assert version.loaded_by == county
        assert scheme.region.code == "330304"


def test_expected_periods_are_closed_with_one_result_per_subject(demo):
    county = get_user_model().objects.get(username="county")
    for code, spec in SPECS.items():
        kind = str(spec.subject_kind)
        # Closed, and then some posted or finalised by the postings step.
        closed = Period.objects.filter(scheme__code=code, status__in=["closed", "posted", "final"])
        assert set(closed.values_list("cadence", "label")) == expected_closed(spec), code
        assert not closed.filter(cadence="year", label="2026").exists()
        subjects = scored(kind)
        assert subjects > 0
        for period in closed.annotate(n=Count("results")):
            assert period.n == subjects, (code, period.label)
            assert period.closed_by == county
        # The current period is open, and has entries of its first weeks.
        current = Period.objects.get(
            scheme__code=code, cadence=str(spec.cadence), start__lte=TODAY, end__gte=TODAY
        )
        assert current.status == "open"
        assert Entry.objects.filter(
            scheme__code=code, occurred_on__gte=current.start, occurred_on__lte=TODAY
        ).exists()
        assert not Entry.objects.filter(scheme__code=code, occurred_on__gt=TODAY).exists()
        # Entries of a year-end assessment exist only for the contest's closed year 2025 (the
        # evaluations' results of a quarter or a half-year are tested below).
        assessed = (
            Entry.objects.filter(scheme__code=code).exclude(cadence="").exclude(source="evaluation")
        )
        if code in HISTORY:
            assert assessed.exists()
            assert not assessed.exclude(cadence="year").exists()
            assert not assessed.filter(occurred_on__gte=YEAR_START).exists()
        else:
            assert not assessed.exists()


def test_village_tracks_follow_the_contest_shares(demo):
    tracks = Counter(Subject.objects.filter(kind="village").values_list("track", flat=True))
    assert sum(tracks.values()) == 190
    assert tracks == {"示范": 38, "创优": 95, "强基": 57}
    members = Subject.objects.filter(kind="party_member")
    assert set(members.values_list("track", flat=True)) == set("ABCDEF")
    results = Result.objects.filter(period__scheme__code="leitai-biwu", period__label="2026-03")
    assert set(results.values_list("rank_group", flat=True)) == {"示范", "创优", "强基"}
    assert set(results.values_list("variant", flat=True)) == {"示范", "创优", "强基"}


def test_household_totals_start_from_the_base_and_spread(demo):
    months = Period.objects.filter(scheme__code="household-points", cadence="month")
    for period in months.filter(status__in=["closed", "posted", "final"]):
        results = Result.objects.filter(period=period)
        totals = list(results.values_list("total", flat=True))
        assert len(set(totals)) > 10, period.label  # ranks spread
        assert max(results.values_list("rank", flat=True)) > 1
        assert 98 <= sorted(totals)[len(totals) // 2] <= 106, period.label
        # Households with nothing approved in the month keep exactly the base.
        untouched = results.filter(breakdown="{}")
        assert untouched.exists()
        assert set(untouched.values_list("total", flat=True)) == {100}
    # A quarter counts the base once: 100 + Σ(month − 100).
    quarter = Period.objects.get(scheme__code="household-points", label="2026-Q2")
    monthly = defaultdict(int)
    for subject_id, total in Result.objects.filter(
        period__scheme__code="household-points", period__label__in=["2026-04", "2026-05", "2026-06"]
    ).values_list("subject_id", "total"):
        monthly[subject_id] += total - 100
    for result in Result.objects.filter(period=quarter)[:300]:
        assert result.total == max(0, 100 + monthly[result.subject_id])
    # Households differ persistently: the top fifth of the first half is mostly above the median
    # of the third quarter too.
    first = dict(
        Result.objects.filter(
            period__scheme__code="household-points", period__label="2026-Q1"
        ).values_list("subject_id", "total")
    )
    third = dict(
        Result.objects.filter(
            period__scheme__code="household-points", period__label="2026-Q3"
        ).values_list("subject_id", "total")
    )
    top = sorted(first, key=first.get, reverse=True)[: len(first) // 5]
    median = sorted(third.values())[len(third) // 2]
    assert sum(third[s] > median for s in top) > 0.6 * len(top)


def test_every_household_has_some_history(demo):
    households = Subject.objects.filter(kind="household")
    with_entries = households.filter(entries__isnull=False).distinct().count()
    assert with_entries == households.count() == DEMO_YEAR_HOUSEHOLDS


def test_vetoes_fire_in_the_household_scheme(demo):
    fired = [
        (result, code)
        for result, code, node in node_rows(
            Result.objects.filter(
                period__scheme__code="household-points",
                period__status__in=["closed", "posted", "final"],
            ).select_related("period__version")
        )
        if node.fired
    ]
    assert fired
    result, code = next((r, c) for r, c in fired if r.period.cadence == "month")
    effect = SchemeNode.objects.get(version=result.period.version, variant="", code=code)
    if effect.veto_effect == "zero":
        assert result.zeroed and result.total == 0
    elif effect.veto_effect == "bar":
        assert result.barred
    else:
        assert result.grade_forced


def test_jingshan_households_also_score_their_communitys_own_items(demo):
    """household-points' overlays (景山社区居民公约, docs/schemes.md §10): only that community's
    households have entries of its items, and only they are scored with its tree."""
    jingshan = "330304001001"
    own = Entry.objects.filter(
        scheme__code="household-points", item_code__in=["JSGY01", "JSGY02", "JSHW01", "JSHW02"]
    )
    assert own.exists()
    assert not own.exclude(subject__region__code__startswith=jingshan).exists()
    results = Result.objects.filter(period__scheme__code="household-points")
    keyed = results.filter(variant="@" + jingshan)
    assert keyed.exists()
    assert not keyed.exclude(subject__region__code__startswith=jingshan).exists()
    assert not results.filter(subject__region__code__startswith=jingshan, variant="").exists()


def test_rating_and_metric_items_score_in_the_village_schemes(demo):
    village_schemes = [code for code, spec in SPECS.items() if str(spec.subject_kind) == "village"]
    assert len(village_schemes) == 3
    for code in village_schemes:
        spec = SPECS[code]
        rows = {row.code: row for row in spec.flatten() if row.is_item}
        ratings = [c for c, r in rows.items() if r.rule is Rule.RATING]
        metrics = [c for c, r in rows.items() if r.rule is Rule.METRIC and r.metric not in COMPUTED]
        scored = {
            item
            for _r, item, node in node_rows(
                Result.objects.filter(
                    period__scheme__code=code, period__status__in=["closed", "posted", "final"]
                )
            )
            if node.value > 0
        }
        assert scored & set(ratings), code
        for item in ratings:
            assert item in scored, (code, item)
        for item in metrics:
            assert item in scored, (code, item)
        # Ratings differ between villages and rankings are not all ties.
        results = Result.objects.filter(
            period__scheme__code=code, period__status__in=["closed", "posted", "final"]
        )
        assert results.values("total").distinct().count() > 50, code


def test_reported_metrics_cover_every_subject_and_period(demo):
    for code, spec in SPECS.items():
        names = {row.metric for row in spec.flatten() if row.metric} - set(COMPUTED)
        # The members' coverage is pushed by the evaluations module at each close (tested below),
        # and another scheme's results are read by the close (the team's 擂台比武 lists, below).
        names -= FED_METRICS | {item.metric for _path, item in source_items(spec)}
        if not names:
            continue
        kind = str(spec.subject_kind)
        for period in Period.objects.filter(scheme__code=code, cadence=str(spec.cadence)):
            values = MetricValue.objects.filter(
                scheme_id=period.scheme_id, period_label=period.label, metric__in=names
            )
            per_metric = Counter(values.values_list("metric", flat=True))
            assert set(per_metric) == names, (code, period.label)
            if "member_points_percentile" not in names:
                assert set(per_metric.values()) == {scored(kind)}, (code, period.label)
            lowest, highest = (
                min(values.values_list("value_scaled", flat=True)),
                max(values.values_list("value_scaled", flat=True)),
            )
            assert -200_000 <= lowest < highest <= 1_000_000, (code, period.label)
    # The cadres' party-member percentile comes from the closed member months: the members only.
    percentile = MetricValue.objects.filter(
        metric="member_points_percentile", period_label="2026-H1"
    )
    members = Subject.objects.filter(kind="party_member").values("person_id")
    cadres_in_party = Subject.objects.filter(kind="cadre", person_id__in=members).count()
    assert percentile.count() == cadres_in_party > 0
    assert percentile.filter(value_scaled=0).exists()  # someone tops their class


def test_the_team_reads_the_contest_lists_of_its_half_year(demo):
    """qianfen-team's JF06/KF08 count the months its village was in the 擂台比武's top three
    and bottom three (`source:`), read from the closed months by the team's H1 close."""
    period = Period.objects.get(scheme__code="qianfen-team", label="2026-H1")
    assert period.status in ("closed", "posted", "final")
    months = Period.objects.filter(
        scheme__code="leitai-biwu", cadence="month", label__gte="2026-01", label__lte="2026-06"
    )
    assert months.count() == 6 and not months.filter(status="open").exists()
    for metric, code, item in (
        ("leitai_top3_months", "top3", "JF06"),
        ("leitai_bottom3_months", "bottom3", "KF08"),
    ):
        listed = Counter(
            ListMembership.objects.filter(period__in=months, list_code=code).values_list(
                "subject__region_id", flat=True
            )
        )
        values = {
            region: value // 10_000
            for region, value in MetricValue.objects.filter(
                scheme_id=period.scheme_id, period_label="2026-H1", metric=metric
            ).values_list("subject__region_id", "value_scaled")
        }
        assert sum(listed.values()) > 0
        assert {r: n for r, n in values.items() if n} == dict(listed), metric
        # Five points a month, at most 30 (a bonus) or −30 (a deduction).
        sign = 1 if item == "JF06" else -1
        nodes = [
            (r.subject.region_id, node.value)
            for r, c, node in node_rows(
                Result.objects.filter(period=period).select_related("subject")
            )
            if c == item
        ]
        scale = period.version.scale
        assert all(v == sign * min(5 * listed.get(r, 0), 30) * scale for r, v in nodes), item


def test_entries_not_approved_do_not_count(demo):
    entries = Entry.objects.filter(scheme__code="household-points", occurred_on__lte=CLOSED_UNTIL)
    statuses = Counter(entries.values_list("status", flat=True))
    assert statuses["submitted"] > 0 and statuses["rejected"] > 0
    assert statuses["approved"] > 10 * (statuses["submitted"] + statuses["rejected"])
    # More wait for review in the open month than in the closed ones.
    november = Entry.objects.filter(scheme__code="household-points", occurred_on__gt=CLOSED_UNTIL)
    assert november.filter(status="submitted").count() > 0.2 * november.count()
    period = Period.objects.get(scheme__code="household-points", label="2026-05")
    in_month = Entry.objects.filter(
        scheme=period.scheme, occurred_on__gte=period.start, occurred_on__lte=period.end
    )
    approved = {
        (row["subject_id"], row["item_code"]): row["n"]
        for row in in_month.filter(status="approved")
        .values("subject_id", "item_code")
        .annotate(n=Sum("sign"))
    }
    items = {c for _s, c in approved}
    nodes = {key: n.entry_count for key, n in result_nodes(period).items() if key[1] in items}
    # One node value per item with approved entries (a fully reversed one counts 0), and its
    # count is of approved entries only.
    assert nodes == approved
    everything = Counter(in_month.values_list("subject_id", "item_code"))
    pending = set(in_month.exclude(status="approved").values_list("subject_id", "item_code"))
    assert pending and all(nodes.get(key, 0) < everything[key] for key in pending)


def test_reversals_cancel_approved_entries(demo):
    reversals = Entry.objects.filter(sign=-1).select_related("reverses")
    assert reversals.count() > 0
    assert reversals.filter(reverses__isnull=True).count() == 0
    for reversal in reversals[:200]:
        original = reversal.reverses
        assert original.sign == 1 and original.status == "approved"
        assert (reversal.subject_id, reversal.item_code, reversal.occurred_on) == (
            original.subject_id,
            original.item_code,
            original.occurred_on,
        )
        assert reversal.quantity_scaled == original.quantity_scaled
        assert reversal.label == original.label


def test_the_demo_ledger_verifies_and_was_reviewed(demo):
    assert list(chain_verify(region_prefix="330304")) == []
    # Entries approved as they are written have no reviewer: an evaluation's result (the raters'
    # judgement, counted) and the sources a scheme approves itself (attendance at a meeting).
    reviewed = Entry.objects.exclude(status="submitted").exclude(source="evaluation").filter(sign=1)
    for code, spec in SPECS.items():
        auto = [str(source) for source in spec.review.auto_approve]
        reviewed = reviewed.exclude(scheme__code=code, source__in=auto, reviewed_by=None)
    assert not reviewed.filter(reviewed_at__isnull=True).exists()
    assert not Entry.objects.filter(status="submitted", reviewed_at__isnull=False).exists()
    assert not reviewed.filter(reviewed_by_id=F("created_by_id")).exists()  # nobody their own
    rejected = Entry.objects.filter(status="rejected")
    assert rejected.exists() and not rejected.filter(review_reason="").exists()
    users = get_user_model().objects.in_bulk(field_name="username")
    by_review = Entry.objects.filter(reviewed_by=users["review"])
    assert by_review.exists()
    assert not by_review.exclude(subject__region__parent__code="330304001001").exists()
    declared = Entry.objects.filter(created_by=users["villager"])
    assert declared.exists() and set(declared.values_list("source", flat=True)) == {"declared"}


def test_the_ledger_verifies_and_reconcile_finds_nothing_to_credit(demo):
    """The demo writes in bulk, but what it leaves is what the services would have: the
    commands an operator runs find every chain intact and every approved entry credited."""
    out = StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "every chain is intact" in out.getvalue()
    out = StringIO()
    call_command("store_reconcile", stdout=out)
    assert out.getvalue().strip() == "store reconcile: 0 entries credited"
    assert "store: " in demo and "entries credited to points accounts" in demo


def test_entries_are_credited_to_the_demo_logins_where_they_fit(demo):
    users = get_user_model().objects.in_bulk(field_name="username")
    grid = Region.objects.get(code="330304001001001")
    by_grid = Entry.objects.filter(created_by=users["grid"])
    assert by_grid.exists()
    assert not by_grid.exclude(subject__region=grid).exists()
    assert by_grid.filter(scheme__code="household-points").count() == by_grid.count()
    by_township = Entry.objects.filter(created_by=users["township"])
    assert by_township.exists()
    assert not by_township.exclude(subject__region__code__startswith="330304001").exists()
    by_dept = Entry.objects.filter(created_by=users["dept"])
    villages = set(users["dept"].role_assignments.get().department.villages.all())
    assert by_dept.exists()
    assert {entry.subject.region for entry in by_dept.select_related("subject__region")} <= villages
    # Only the items the schemes give its department (组织部: `owner: dept:organization`).
    dept_items = SchemeNode.objects.filter(
        version__scheme__in=by_dept.values("scheme"), is_item=True, owner="dept:organization"
    ).values_list("version__scheme__code", "code")
    assert set(by_dept.values_list("scheme__code", "item_code")) <= set(dept_items)


@pytest.mark.skipif(SECOND_ENGINE, reason="determinism is checked by the SQLite pass")
def test_same_seed_same_results(demo_year):
    (first, entries), (again, entries_again) = demo_year.runs
    assert all(len(rows) == 20 for rows in first.values())
    assert again == first
    assert entries_again == entries


def test_postings_finalise_the_past_and_post_the_latest(demo):
    from kaoping.outcomes.models import Interview, KeyVillage

    statuses = dict(
        Period.objects.filter(scheme__code="household-points", cadence="month").values_list(
            "label", "status"
        )
    )
    assert statuses["2026-09"] == "final" and statuses["2026-10"] == "posted"
    assert statuses["2026-11"] == "open"
    quarters = dict(
        Period.objects.filter(scheme__code="liubi-liuzheng").values_list("label", "status")
    )
    assert (quarters["2026-Q1"], quarters["2026-Q2"], quarters["2026-Q3"]) == (
        "final",
        "final",
        "posted",
    )
    assert KeyVillage.objects.filter(left_on__isnull=True).count() >= 1
    assert Interview.objects.filter(period__scheme__code="leitai-biwu").exists()


def test_the_contest_year_2025_is_final_and_its_annual_ladder_ran(demo, client):
    """年度后三名 表态发言: the year's bottom three of each township speak at the town meeting."""
    from kaoping.outcomes.models import Interview

    year = Period.objects.get(scheme__code="leitai-biwu", cadence="year", label="2025")
    assert year.status == "final"
    # The year is 40 % year-end assessment and 60 % the months' mean: both parts are there.
    assert Entry.objects.filter(scheme=year.scheme, cadence="year").count() > 0
    assert Period.objects.filter(scheme=year.scheme, label__startswith="2025-").count() == 12 + 4
    assert set(
        Period.objects.filter(scheme=year.scheme, label__startswith="2025")
        .values_list("status", flat=True)
        .distinct()
    ) == {"final"}
    bottom = set(year.memberships.filter(list_code="bottom3").values_list("subject_id", flat=True))
    interviews = Interview.objects.filter(period=year)
    townships = Region.objects.filter(level="township", code__startswith="330304").count()
    assert interviews.count() >= 3 * townships
    assert set(interviews.values_list("level_name", flat=True)) == {"全镇大会表态发言"}
    assert set(interviews.values_list("status", flat=True)) == {"held"}
    assert set(interviews.values_list("subject_id", flat=True)) == bottom
    # 2025's months and quarters were dealt with as well: nothing of that year is still to do.
    assert not Interview.objects.filter(period__end__lt=YEAR_START, status="pending").exists()
    # The public posting of the year lists its bottom three.
    response = client.get(f"/p/{year.pk}/")
    assert response.status_code == 200
    assert "后三名" in response.content.decode()


def test_entries_were_recorded_when_they_happened(demo):
    """Recorded on the day or a few days later, in office hours, never after TODAY; reviewed
    after being recorded: the ledger's burst flag sees no burst that did not happen."""
    from datetime import datetime, timedelta

    from django.utils import timezone

    zone = timezone.get_default_timezone()
    end_of_today = datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, tzinfo=zone)
    assert not Entry.objects.filter(created_at__gt=end_of_today).exists()
    sample = list(
        Entry.objects.order_by("?").values_list(
            "occurred_on", "created_at", "reviewed_at", "reverses_id"
        )[:3000]
    )
    for occurred, created, reviewed, reverses in sample:
        local = timezone.localtime(created, zone)
        assert occurred <= local.date(), (occurred, local)
        assert reviewed is None or reviewed > created
        if not reverses:  # a reversal comes some days after the review
            assert local.date() <= occurred + timedelta(days=3), (occurred, local)
            assert 8 <= local.hour <= 17
    # No subject has more than a handful of entries (ratings aside) recorded on one day.
    busiest = (
        Entry.objects.filter(label="", reverses__isnull=True, cadence="")
        .values("subject_id", "created_at__date")
        .annotate(n=Count("id"))
        .order_by("-n")
        .values_list("n", flat=True)
        .first()
    )
    assert busiest <= 12


def test_an_entry_recorded_after_the_demo_is_not_flagged_as_a_burst(demo):
    from kaoping.ledger.models import EntrySource
    from kaoping.ledger.services import EntryDraft, Recorder

    county = get_user_model().objects.get(username="county")
    scheme = Scheme.objects.get(code="household-points")
    version = scheme.latest_version()
    item = (
        SchemeNode.objects.filter(version=version, variant="", rule="count", points__gt=0)
        .exclude(evidence_required=True)
        .order_by("position")
        .first()
    )
    busiest = (
        Entry.objects.filter(scheme=scheme)
        .values("subject_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    assert busiest["n"] > 5
    subject = Subject.objects.get(pk=busiest["subject_id"])
    recorder = Recorder(scheme=scheme, acting_user=county, source=EntrySource.CONSOLE)
    entry = recorder.build(EntryDraft(subject=subject, item_code=item.code, occurred_on=TODAY))
    recorder.flag([entry])
    assert "burst" not in entry.flags
    # Six at once is a genuine burst, and is flagged.
    entries = [
        recorder.build(EntryDraft(subject=subject, item_code=item.code, occurred_on=TODAY))
        for _ in range(6)
    ]
    recorder.flag(entries)
    assert "burst" in entries[-1].flags


# --- the evaluations (评议): kaoping/demo/evaluations.py ---------------------------------------

CLOSED_ROUNDS = (
    {("branch", f"2026-{month:02d}") for month in range(1, 11)}
    | {("masses", f"2026-Q{quarter}") for quarter in (1, 2, 3)}
    | {("mutual", "2026-H1")}
)


def test_the_items_a_plan_feeds_come_from_its_rounds_alone(demo):
    from kaoping.demo.scoring import evaluation_items
    from kaoping.evaluations.models import RoundResult

    assert evaluation_items() == {"sanping": frozenset({"PY01", "PY02", "PY03"})}
    fed = Entry.objects.filter(scheme__code="sanping", item_code__in=["PY01", "PY02", "PY03"])
    assert set(fed.values_list("source", flat=True)) == {"evaluation"}
    # One entry per valid, positive result of a closed round: the result as its quantity, 20
    # points a mark, on the period's last day, at the campaign's cadence (into the quarter, the
    # half-year); nothing for a result short of ballots.
    written = RoundResult.objects.filter(round__status="closed", entry__isnull=False)
    assert written.count() == fed.count() > 10 * scored("party_member")
    for result in written.select_related("round", "entry").order_by("?")[:500]:
        entry = result.entry
        assert (entry.subject_id, entry.quantity, entry.points) == (
            result.subject_id,
            result.value,
            result.value * 20,
        )
        assert entry.occurred_on == result.round.closes_on
        assert entry.cadence == {"month": ""}.get(result.round.cadence, result.round.cadence)
    short = RoundResult.objects.filter(valid=False)
    assert short.exists() and not short.filter(entry__isnull=False).exists()
    assert all("short" in flags for flags in short.values_list("flags", flat=True))
    # The quarter and the half-year are assessed by the masses and the members.
    # (Members who moved away or are frail link no household, so the masses do not rate them.)
    quarter = Period.objects.get(scheme__code="sanping", label="2026-Q2")
    nodes = [n.value for (_s, code), n in result_nodes(quarter).items() if code == "PY02"]
    linking = Subject.objects.filter(
        kind="party_member", person__party_member__linked_households__isnull=False
    ).distinct()
    assert len(nodes) > 0.85 * linking.count()
    assert 80 * 100 < sum(nodes) / len(nodes) < 95 * 100


def test_closed_rounds_add_their_ballots_up_as_the_close_does(demo):
    """Written in bulk, a closed round holds what `round_close` would have made of its ballots,
    and its ballots keep the pools' rules."""
    from kaoping.evaluations.aggregate import subject_outcome
    from kaoping.evaluations.models import Ballot, Round, RoundResult
    from kaoping.evaluations.pools import campaign_of
    from kaoping.people.models import PartyMember

    rounds = Round.objects.filter(status="closed")
    assert set(rounds.values_list("campaign", "period_label")) == CLOSED_ROUNDS
    for round_ in rounds.filter(period_label__in=["2026-03", "2026-Q2", "2026-H1"]):
        campaign = campaign_of(round_)
        marks = defaultdict(list)
        for subject_id, mark in Ballot.objects.filter(round=round_).values_list(
            "subject_id", "mark"
        ):
            marks[subject_id].append(mark)
        results = RoundResult.objects.filter(round=round_)
        assert results.count() == round_.subjects.count() == scored("party_member")
        for result in results:
            outcome = subject_outcome(campaign, marks.get(result.subject_id, []))
            assert (result.value, result.ballots, result.valid) == (
                outcome.value,
                outcome.ballots,
                outcome.valid,
            ), round_
    # Nobody rates themselves, nor a household its own member; no more ballots than raters.
    assert not Ballot.objects.filter(rater_person_id=F("subject__person_id")).exists()
    assert not Ballot.objects.filter(rater_household_id=F("subject__person__household_id")).exists()
    assert not Ballot.objects.filter(
        rater_user__profile__person_id=F("subject__person_id")
    ).exists()
    assert not RoundResult.objects.filter(ballots__gt=F("eligible")).exists()
    # The masses are the households the member links (一联).
    linked = set(
        PartyMember.linked_households.through.objects.values_list(
            "partymember__person_id", "household_id"
        )
    )
    by_code = Ballot.objects.filter(round__campaign="masses", channel="code").values_list(
        "subject__person_id", "rater_household_id"
    )
    assert by_code.exists() and set(by_code) <= linked
    assert Ballot.objects.filter(round__status="closed", channel="paper").exists()


def test_evaluations_in_every_state_for_the_demo_logins(demo):
    from django.apps import apps
    from django.utils import timezone

    from kaoping.evaluations.models import Meeting, Plan, Round
    from kaoping.evaluations.round_selectors import rounds_to_rate

    users = get_user_model().objects.in_bulk(field_name="username")
    for model in apps.get_app_config("evaluations").get_models():
        assert model.objects.exists(), model.__name__
    plan = Plan.objects.get()
    assert (plan.code, plan.region.code, plan.loaded_by) == (
        "jinggang-2026",
        "330304",
        users["county"],
    )
    assert plan.versions.get().filename == "evaluations/jinggang-2026.yaml"
    now = {r.campaign: r for r in Round.objects.filter(status="open")}
    assert {(c, r.period_label) for c, r in now.items()} == {
        ("branch", "2026-11"),
        ("masses", "2026-Q4"),
        ("mutual", "2026-H2"),
        ("panel", "2026-11"),
    }
    today = timezone.localdate()
    assert all(r.opens_on <= today <= r.closes_on for r in now.values())
    # The secretary has rated some of the branch's members this month, not all.
    branch = next(
        t for t in rounds_to_rate(users["secretary"], today=today) if t.round == now["branch"]
    )
    assert 0 < branch.done < branch.subjects
    # The masses' quarter: households rated by their codes, two on paper.
    masses = now["masses"]
    assert {"code", "paper"} <= set(masses.ballots.values_list("channel", flat=True))
    assert masses.codes.filter(first_used_at__isnull=False).exists()
    assert masses.codes.filter(first_used_at__isnull=True).exists()
    # The panel: the township chairs, five demo logins judge six contestants, some have scored;
    # the contestants are not in November's branch round too.
    panel = now["panel"]
    assert panel.chair == users["township"]
    assert set(panel.judges.values_list("username", flat=True)) == {
        "township",
        "county",
        "secretary",
        "committee",
        "dept",
    }
    assert panel.subjects.count() == 6
    assert 6 < panel.ballots.count() < 5 * 6
    assert not now["branch"].subjects.filter(pk__in=panel.subjects.values("pk")).exists()
    # Meetings of the secretary's branch: one closed with its attendance counted, one open.
    village = users["secretary"].role_assignments.get().region
    meetings = Meeting.objects.filter(village=village)
    assert meetings.filter(open=True).count() == 1
    held = meetings.get(open=False)
    assert held.attendances.count() > 0
    assert not held.attendances.filter(entry__isnull=True).exists()
    assert Meeting.objects.exclude(village=village).filter(open=False).exists()


def test_members_serve_their_households_and_their_coverage_is_pushed(demo):
    from kaoping.evaluations.linking import LINK_METRIC, subject_link_coverage
    from kaoping.evaluations.models import LinkService, MemberPledge

    assert LinkService.objects.filter(served_on__gt=CLOSED_UNTIL).exists()
    assert not LinkService.objects.filter(served_on__gt=TODAY).exists()
    # Every closed month of the village scheme has the pushed figure, mostly 70–100 %.
    months = Period.objects.filter(scheme__code="hong-huang-qi", cadence="month").exclude(
        status="open"
    )
    assert months.count() == 10
    values = MetricValue.objects.filter(
        scheme__code="hong-huang-qi",
        metric=LINK_METRIC,
        period_label__in=months.values("label"),
    )
    percents = [v.value for v in values]
    assert len(percents) == 10 * scored("village")
    assert sum(70 <= p <= 100 for p in percents) > 0.8 * len(percents)
    assert len(set(percents)) > 50
    # The figures are the linking module's, not typed in.
    may = months.get(label="2026-05")
    expected = subject_link_coverage(kind="village", prefix="330304", start=may.start, end=may.end)
    stored = {v.subject_id: v.value for v in values.filter(period_label="2026-05")}
    assert stored == expected
    # 二亮: pledges, some kept.
    pledges = MemberPledge.objects.all()
    kept = pledges.filter(kept_on__isnull=False).count()
    assert 0.2 * pledges.count() < kept < 0.8 * pledges.count()


def test_the_contest_breaks_ties_at_its_cut_offs(demo):
    """擂台: the top 3 and bottom 3 of each township are three villages each, a tie across the
    cut-off settled by 村庄治理, the previous period's rank and a lot whose seed each period
    keeps (docs/schemes.md §11 “并列时再比”); only a tie no key tells apart may be more."""
    from kaoping.periods.models import ListMembership

    periods = Period.objects.filter(scheme__code="leitai-biwu").exclude(status="open")
    assert periods.exists()
    assert not periods.filter(tie_seed="").exists()
    rows = ListMembership.objects.filter(
        period__in=periods, list_code__in=["top3", "bottom3"], carried=False
    ).values_list("period_id", "list_code", "subject__region__code", "tie_break")
    places: dict[tuple, list[str]] = defaultdict(list)
    for period_id, code, region, why in rows:
        places[(period_id, code, region[:9])].append(why)
    assert places
    for key, reasons in places.items():
        assert len(reasons) <= 3 or "tie" in reasons, key
    settled = [t for p in periods for t in p.tie_breaks]
    assert {t["by"] for t in settled} - {"", "tie"}, "the demo's ties are settled by the keys"


def test_party_members_carry_a_year_to_date_warning(demo):
    """The member scheme ranks a list on the year-to-date total (累计积分预警, docs/schemes.md
    “按累计排名”): every member result keeps it, and each closed quarter lists exactly the
    members whose total since January is below 80."""
    scheme = Scheme.objects.get(code="party-member-points")
    results = Result.objects.filter(period__scheme=scheme)
    assert results.exists() and not results.filter(ytd__isnull=True).exists()
    quarters = Period.objects.filter(scheme=scheme, cadence="quarter").exclude(status="open")
    assert quarters.count() == 3  # Q1–Q3 of 2026
    for quarter in quarters:
        low = set(
            results.filter(period=quarter, ytd__lt=80 * quarter.version.scale).values_list(
                "subject_id", flat=True
            )
        )
        listed = set(
            ListMembership.objects.filter(period=quarter, list_code="leiji_yujing").values_list(
                "subject_id", flat=True
            )
        )
        assert listed == low, quarter.label
    # A month's year to date is the quarter's at its last month (sum: base counted once).
    march = Period.objects.get(scheme=scheme, label="2026-03")
    q1 = quarters.get(label="2026-Q1")
    assert dict(results.filter(period=march).values_list("subject_id", "ytd")) == dict(
        results.filter(period=q1).values_list("subject_id", "ytd")
    )
