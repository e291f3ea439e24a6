"""Carry-over per listing (docs/schemes.md §11 “每次上榜各自延续”): every unresolved earlier
listing stays as its own row “延续自 <its period>”, beside a fresh listing of the subject now,
and the rectification of one listing (its pledge accepted) ends that carry only."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.outcomes.models import Pledge
from kaoping.outcomes.services import pledge_accept, pledge_item_add, pledge_item_done
from kaoping.periods.models import ListMembership, Period
from kaoping.periods.services import period_close, period_open
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record, village_subjects

pytestmark = pytest.mark.django_db

MONTHS = {  # GZ times (10 points each) of 甲, 乙, 丙
    "2026-01": (3, 6, 8),
    "2026-02": (4, 5, 9),
    "2026-03": (7, 2, 9),
    "2026-04": (8, 7, 6),
}


def _month(scheme, subjects, label) -> Period:
    for subject, n in zip(subjects, MONTHS[label], strict=True):
        record(scheme, subject, "GZ", str(n), on=date(2026, int(label[-2:]), 10))
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


def _black(period) -> set[tuple[int, str]]:
    """{(subject, '' for a fresh listing or the label of the period a carried one comes from)}."""
    return {
        (m.subject_id, m.carried_from.label if m.carried else "")
        for m in ListMembership.objects.filter(period=period, list_code="black").select_related(
            "carried_from"
        )
    }


def _accept(pledge) -> None:
    actor = system_actor()
    item = pledge_item_add(pledge=pledge, text="整治村口垃圾点", owner="村书记", acting_user=actor)
    pledge_item_done(item=item, acting_user=actor)
    pledge_accept(pledge=pledge, acting_user=actor)


def test_the_carryover_example_in_the_docs_closes_as_stated(county):
    version, _created = scheme_load(
        text=docs_example("carryover-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    scheme = version.scheme
    jia, yi, bing = village_subjects(county).values()
    subjects = [jia, yi, bing]

    january = _month(scheme, subjects, "2026-01")
    assert _black(january) == {(jia.pk, "")}
    january_pledge = Pledge.objects.get(period=january, subject=jia, list_code="black")

    # February: 甲 is last again: a fresh listing and January's, carried, side by side; the new
    # listing gets a pledge of its own although January's is still open.
    february = _month(scheme, subjects, "2026-02")
    assert _black(february) == {(jia.pk, ""), (jia.pk, "2026-01")}
    assert Pledge.objects.filter(period=february, subject=jia, list_code="black").exists()
    assert Pledge.objects.filter(subject=jia, list_code="black").count() == 2

    # January's rectification is accepted: it ends January's listing and its carry, not
    # February's.
    _accept(january_pledge)
    assert set(
        ListMembership.objects.filter(
            subject=jia, list_code="black", resolved_at__isnull=False
        ).values_list("period__label", "carried")
    ) == {("2026-01", False), ("2026-02", True)}
    assert (
        ListMembership.objects.get(period=february, subject=jia, carried=False).resolved_at is None
    )

    march = _month(scheme, subjects, "2026-03")
    assert _black(march) == {(yi.pk, ""), (jia.pk, "2026-02")}
    # 甲 has no new listing: February's open pledge answers for the carry, no third one.
    assert Pledge.objects.filter(subject=jia, list_code="black").count() == 2

    april = _month(scheme, subjects, "2026-04")
    assert _black(april) == {(bing.pk, ""), (jia.pk, "2026-02"), (yi.pk, "2026-03")}

    # A re-close keeps each listing's own resolution and writes the same rows.
    period_close(period=february, acting_user=system_actor())
    assert _black(february) == {(jia.pk, "")}  # January's listing is resolved: no carry
    assert ListMembership.objects.get(period=february, subject=jia).resolved_at is None


def test_the_period_page_says_where_a_carry_comes_from(county, client):
    version, _created = scheme_load(
        text=docs_example("carryover-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    jia, yi, bing = village_subjects(county).values()
    _month(version.scheme, [jia, yi, bing], "2026-01")
    february = _month(version.scheme, [jia, yi, bing], "2026-02")
    client.force_login(county.users["alice"])
    page = client.get(f"/periods/{february.pk}/").content.decode()
    assert "延续自 2026-01" in page or "carried from 2026-01" in page


# -- the close equals a plain statement of the rule, whatever the months -------------------------

LABELS = ("2026-01", "2026-02", "2026-03", "2026-04")


def _expected(fresh: dict[str, set[int]], accepted: dict[tuple[int, str], int]) -> dict:
    """{label: {(subject, origin label)}} of carried rows, in plain Python: a listing made in
    an earlier month stays, month after month, until the month after its pledge is accepted
    (`accepted[(subject, origin)]`: the index of the last month closed before acceptance)."""
    carried: dict[str, set] = {}
    for t, label in enumerate(LABELS):
        carried[label] = {
            (subject, origin)
            for o, origin in enumerate(LABELS[:t])
            for subject in fresh[origin]
            if accepted.get((subject, origin), len(LABELS)) >= t
        }
    return carried


def test_each_listing_is_carried_until_its_own_rectification(county):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from .close_harness import rolled_back

    version, _created = scheme_load(
        text=docs_example("carryover-example"),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    subjects = list(village_subjects(county).values())

    @settings(
        max_examples=8, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
    )
    @given(
        scores=st.lists(
            st.lists(st.sampled_from([1, 2, 3]), min_size=3, max_size=3), min_size=4, max_size=4
        ),
        accept=st.lists(st.booleans(), min_size=12, max_size=12),
    )
    def example(scores, accept):
        with rolled_back():
            scheme = version.scheme
            fresh: dict[str, set[int]] = {}
            accepted: dict[tuple[int, str], int] = {}
            choices = iter(accept)
            for t, label in enumerate(LABELS):
                for subject, n in zip(subjects, scores[t], strict=True):
                    record(scheme, subject, "GZ", str(n), on=date(2026, t + 1, 10))
                period = period_open(scheme=scheme, label=label, acting_user=system_actor())
                period_close(period=period, acting_user=system_actor())
                low = min(scores[t])
                fresh[label] = {s.pk for s, n in zip(subjects, scores[t], strict=True) if n == low}
                # Some open pledges are accepted after this month's close.
                for pledge in Pledge.objects.filter(scheme=scheme, status="open").select_related(
                    "period"
                ):
                    if next(choices, False):
                        _accept(pledge)
                        accepted[(pledge.subject_id, pledge.period.label)] = t
            expected = _expected(fresh, accepted)
            for label in LABELS:
                period = Period.objects.get(scheme=scheme, label=label)
                rows = _black(period)
                assert {s for s, origin in rows if origin == ""} == fresh[label]
                assert {(s, o) for s, o in rows if o} == expected[label], label

    example()
