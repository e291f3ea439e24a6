"""Ties at a list's cut-off ordered by `ranking.tie_break` (`at_cutoff: break`), as
docs/schemes.md §11 “并列时再比” states them: the worked example closes to its stated lists and
reasons, the lot replays from its recorded seed, the checks refuse what cannot work, and the
close equals the plain-Python reference `lists.reference` whatever the totals, keys and ids."""

from datetime import date

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kaoping.accounts.scoping import system_actor
from kaoping.people.models import Subject
from kaoping.periods.lists import Ranked, lot_key, reference
from kaoping.periods.models import ListMembership, Period
from kaoping.periods.services import period_close, period_open
from kaoping.regions.models import Region
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.services import scheme_load
from kaoping.schemes.spec import SchemeError

from .close_harness import rolled_back
from .scheme_fixture import docs_example, record, village_subjects

pytestmark = pytest.mark.django_db


def _load(county, text: str):
    version, _created = scheme_load(
        text=text, filename="docs.yaml", region=county.region("330304"), acting_user=system_actor()
    )
    return version.scheme


def _open(scheme, label: str, entries: dict, seed: str = "") -> Period:
    """Open `label` with `entries` {subject: {item: times}} dated in it, the seed set if given."""
    year, month = label.split("-")
    for subject, items in entries.items():
        for item, times in items.items():
            if times:
                record(scheme, subject, item, str(times), on=date(int(year), int(month), 10))
    period = period_open(scheme=scheme, label=label, acting_user=system_actor())
    if seed:
        Period.objects.filter(pk=period.pk).update(tie_seed=seed)
        period.refresh_from_db()
    return period


def _close(period: Period) -> Period:
    period_close(period=period, acting_user=system_actor())
    period.refresh_from_db()
    return period


def _on(period) -> dict[str, dict[int, str]]:
    """{list: {subject: the key that settled its tie}}."""
    found: dict[str, dict[int, str]] = {}
    for code, subject_id, why in ListMembership.objects.filter(period=period).values_list(
        "list_code", "subject_id", "tie_break"
    ):
        found.setdefault(code, {})[subject_id] = why
    return found


def _four(county) -> list[Subject]:
    """甲, 乙 (东岭街道), 丙 and a new 丁 (西溪镇), as the example names them."""
    Region.objects.create(
        code="330304002002",
        name="丁村",
        level="village",
        kind="村",
        parent=county.region("330304002"),
    )
    village_subjects(county)
    jia, yi, bing = village_subjects(county).values()
    ding = Subject.objects.get(kind="village", region__code="330304002002")
    return [jia, yi, bing, ding]


FEBRUARY = {"GZ": [5, 6, 7, 3]}
MARCH = {"GZ": [5, 7, 4, 4], "HJ": [8, 4, 4, 4]}


def _entries(subjects, plan):
    return {s: {item: times[i] for item, times in plan.items()} for i, s in enumerate(subjects)}


def test_the_tiebreak_example_in_the_docs_closes_as_stated(county):
    scheme = _load(county, docs_example("tiebreak-example"))
    jia, yi, bing, ding = _four(county)
    _close(_open(scheme, "2026-02", _entries([jia, yi, bing, ding], FEBRUARY)))
    march = _close(_open(scheme, "2026-03", _entries([jia, yi, bing, ding], MARCH)))
    on = _on(march)
    # 甲 and 乙 tie at 90; 甲's 环境整治 40 beats 乙's 20. 丙 and 丁 tie at 60 and at 20 on
    # 环境整治; last month 丙 was 1st and 丁 4th, so 丁 is the one further down.
    assert on["first"] == {jia.pk: "node:HJ"}
    assert on["last"] == {ding.pk: "previous_rank"}
    first = ListMembership.objects.get(period=march, list_code="first")
    last = ListMembership.objects.get(period=march, list_code="last")
    assert (first.position, first.value) == (1, 90 * march.version.scale)
    assert (last.position, last.value) == (1, 60 * march.version.scale)  # 倒数第 1
    # The period keeps the whole of each tie across a cut-off, in and out, for its pages.
    assert march.tie_breaks == [
        {"list": "first", "subject": jia.pk, "position": 1, "in": True, "by": "node:HJ"},
        {"list": "first", "subject": yi.pk, "position": 1, "in": False, "by": "node:HJ"},
        {"list": "last", "subject": ding.pk, "position": 1, "in": True, "by": "previous_rank"},
        {"list": "last", "subject": bing.pk, "position": 1, "in": False, "by": "previous_rank"},
    ]
    assert march.tie_seed  # the scheme can draw lots: the seed is drawn and kept
    seed = march.tie_seed
    assert _close(march).tie_seed == seed  # a re-close keeps it


def test_the_award_tiebreak_example_in_the_docs_closes_as_stated(county):
    jia, yi, bing, _ding = _four(county)
    plan = {"GZ": [5, 7, 4], "HJ": [8, 4, 4]}
    for cutoff, tiers in (
        ("break", {jia.pk: "yi", yi.pk: "er"}),
        # Ties share one fate: both first tier; the second goes to the best still unplaced.
        ("share", {jia.pk: "yi", yi.pk: "yi", bing.pk: "er"}),
    ):
        with rolled_back():
            text = docs_example("award-tiebreak-example").replace(
                "at_cutoff: break", f"at_cutoff: {cutoff}"
            )
            scheme = _load(county, text)
            march = _close(_open(scheme, "2026-03", _entries([jia, yi, bing], plan)))
            awarded = dict(
                ListMembership.objects.filter(period=march, kind="award").values_list(
                    "subject_id", "tier"
                )
            )
            assert awarded == tiers, cutoff


def test_include_and_exclude_read_the_example_as_stated(county):
    jia, yi, bing, ding = _four(county)
    for cutoff, first, last in (
        ("include", {jia.pk, yi.pk}, {bing.pk, ding.pk}),
        ("exclude", set(), set()),
    ):
        with rolled_back():
            text = docs_example("tiebreak-example").replace(
                "at_cutoff: break", f"at_cutoff: {cutoff}"
            )
            scheme = _load(county, text)
            march = _close(_open(scheme, "2026-03", _entries([jia, yi, bing, ding], MARCH)))
            on = _on(march)
            assert set(on.get("first", {})) == first
            assert set(on.get("last", {})) == last
            assert not march.tie_seed  # no list breaks ties: no lot, no seed


def test_without_a_previous_month_the_lot_decides_and_replays(county):
    scheme = _load(county, docs_example("tiebreak-example"))
    jia, yi, bing, ding = _four(county)
    seed = "3f9c0a7e12b4d856"
    march = _close(_open(scheme, "2026-03", _entries([jia, yi, bing, ding], MARCH), seed=seed))
    assert march.tie_seed == seed
    on = _on(march)
    assert on["first"] == {jia.pk: "node:HJ"}
    # A bottom list takes the one the lot puts last: the larger sha256(seed:number).
    drawn = max((bing, ding), key=lambda s: lot_key(seed, s.pk))
    assert on["last"] == {drawn.pk: "lot"}
    # Another seed may draw the other: the lot is the seed's, not the row order's.
    for other in ("0", "1", "2", "3", "4", "5"):
        with rolled_back():
            Period.objects.filter(pk=march.pk).update(tie_seed=other)
            march.refresh_from_db()
            again = _on(_close(march))
            assert again["last"] == {
                max((bing, ding), key=lambda s: lot_key(other, s.pk)).pk: "lot"
            }


@pytest.mark.parametrize(
    ("ranking", "wanted"),
    [
        (
            "  lists:\n    - {code: a, name: a, count: 1, at_cutoff: break}\n",
            "ranking.tie_break",
        ),
        (
            "  tie_break: [{lot: true}, {previous_rank: true}]\n"
            "  lists:\n    - {code: a, name: a, count: 1, at_cutoff: break}\n",
            "put it last",
        ),
        (
            "  tie_break: [{node: XX}]\n"
            "  lists:\n    - {code: a, name: a, count: 1, at_cutoff: break}\n",
            "XX",
        ),
        (
            "  tie_break: [{node: GZ, lot: true}]\n"
            "  lists:\n    - {code: a, name: a, count: 1, at_cutoff: break}\n",
            "lot: true",
        ),
        (
            "  tie_break: [{lot: true}]\n"
            "  lists:\n    - {code: a, name: a, min: 1, min_inclusive: true, at_cutoff: break}\n",
            "count or percent",
        ),
        (
            "  tie_break: [{lot: true}]\n"
            "  lists:\n    - {code: a, name: a, kind: progress, count: 1, at_cutoff: break}\n",
            "progress",
        ),
    ],
)
def test_the_checks_refuse_what_cannot_break_a_tie(ranking, wanted):
    text = (
        "code: t\nversion: 1\nname: t\nsubject_kind: village\ncadence: month\n"
        "tree:\n  - {code: GZ, name: 日常工作, rule: count, points: 10}\nranking:\n" + ranking
    )
    with translation.override("en"), pytest.raises(SchemeError) as refused:
        load_scheme_text(text)
    assert wanted in str(refused.value)


# -- the close equals the reference --------------------------------------------------------------

PROPERTY = """
code: tb-property
version: 1
name: 并列再比
subject_kind: village
cadence: month
tree:
  - {{code: GZ, name: 日常工作, rule: count, points: 10}}
  - {{code: HJ, name: 环境整治, rule: count, points: 5}}
ranking:
  order: {order}
  tie_break: [{keys}]
  lists:
    - {{code: top, name: 前二, kind: red, count: 2, at_cutoff: break}}
    - {{code: low, name: 后一, kind: black, pick: bottom, count: 1, at_cutoff: break, carry_over: false}}
    - {{code: pct, name: 前三成, kind: flag, percent: 30, at_cutoff: break}}
    - {{code: hi, name: 够线前三, kind: mark, count: 3, min: 50, min_inclusive: true, at_cutoff: break}}
  awards:
    - code: prize
      name: 奖
      at_cutoff: break
      tiers: [{{code: one, name: 一等, quota: 1}}, {{code: two, name: 二等, quota: 2, min: 20}}]
    - code: seat
      name: 对号
      allocation: slots
      at_cutoff: break
      tiers: [{{code: a, name: 甲, quota: 1}}, {{code: b, name: 乙, quota: 1, min: 30}}]
"""

KEYS = {
    "node": "{node: HJ}",
    "node_asc": "{node: HJ, order: asc}",
    "previous": "{previous_rank: true}",
    "lot": "{lot: true}",
}

EXTRA = {"330304001": 3, "330304002": 2}


def _villages(county) -> list[Subject]:
    for township, n in EXTRA.items():
        for k in range(n):
            Region.objects.create(
                code=f"{township}{k + 11:03d}",
                name=f"新{k + 1}村",
                level="village",
                kind="村",
                parent=county.region(township),
            )
    village_subjects(county)
    return list(Subject.objects.filter(kind="village").select_related("region").order_by("pk"))


def test_the_close_equals_the_reference_whatever_the_ties(county):
    subjects = _villages(county)
    size = len(subjects)

    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        gz=st.lists(st.sampled_from([0, 2, 4, 5]), min_size=size, max_size=size),
        hj=st.lists(st.sampled_from([0, 2, 4]), min_size=size, max_size=size),
        before=st.one_of(
            st.none(),
            st.lists(st.one_of(st.none(), st.sampled_from([1, 3])), min_size=size, max_size=size),
        ),
        keys=st.lists(st.sampled_from(["node", "node_asc", "previous"]), max_size=2, unique=True),
        lot=st.booleans(),
        order=st.sampled_from(["desc", "asc"]),
        seed=st.sampled_from(["a1", "b2", "c3"]),
    )
    def example(gz, hj, before, keys, lot, order, seed):
        if not keys and not lot:
            lot = True
        chosen = [KEYS[k] for k in keys] + ([KEYS["lot"]] if lot else [])
        text = PROPERTY.format(order=order, keys=", ".join(chosen))
        spec = load_scheme_text(text)
        with rolled_back():
            scheme = _load(county, text)
            if before is not None:
                february = {s: {"GZ": n} for s, n in zip(subjects, before, strict=True) if n}
                _open(scheme, "2026-02", february)
                # A subject with no entry still gets a result (no_data: zero); to give some no
                # result at all, those are dropped from the previous period's results.
                february_period = _close(Period.objects.get(scheme=scheme, label="2026-02"))
                missing = [s.pk for s, n in zip(subjects, before, strict=True) if n is None]
                february_period.results.filter(subject_id__in=missing).delete()
            march = _close(
                _open(
                    scheme,
                    "2026-03",
                    {s: {"GZ": g, "HJ": h} for s, g, h in zip(subjects, gz, hj, strict=True)},
                    seed=seed,
                )
            )
            scale = march.version.scale
            previous = dict(
                Period.objects.get(scheme=scheme, label="2026-02").results.values_list(
                    "subject_id", "total"
                )
                if before is not None
                else []
            )
            rows = [
                Ranked(
                    s.pk,
                    "",
                    (g * 10 + h * 5) * scale,
                    nodes=(("HJ", h * 5 * scale),),
                    previous=previous.get(s.pk),
                )
                for s, g, h in zip(subjects, gz, hj, strict=True)
            ]
            reasons: dict = {}
            expected, _short = reference(spec, rows, scale, seed=seed, reasons=reasons)
            written = ListMembership.objects.filter(period=march)
            assert set(written.values_list("list_code", "subject_id", "tier")) == expected
            assert {
                (code, subject): why
                for code, subject, why in written.values_list(
                    "list_code", "subject_id", "tie_break"
                )
            } == {key: reasons.get(key, "") for key in ((c, s) for c, s, _t in expected)}
            # The ties the period keeps: every subject of a tie across a cut-off, in or out as
            # the lists have it, an in one settled by the key its row records.
            on = {(c, s): why for c, s, _t in expected for why in [reasons.get((c, s), "")]}
            for tie in march.tie_breaks:
                assert tie["in"] == ((tie["list"], tie["subject"]) in on)
                if tie["in"]:
                    assert tie["by"] == on[(tie["list"], tie["subject"])]
            assert {(c, s) for (c, s), why in on.items() if why} <= {
                (t["list"], t["subject"]) for t in march.tie_breaks
            }
            if not lot:
                # Without the lot a tie no key tells apart is all in: fates are the values'.
                fates: dict = {}
                for row in rows:
                    fate = frozenset(code for code, s, _t in expected if s == row.subject)
                    group_key = (row.total, row.nodes, row.previous, row.group)
                    fates.setdefault(group_key, set()).add(fate)
                assert all(len(f) == 1 for f in fates.values())

    example()


def test_the_posting_says_why_a_tied_subject_is_on_a_list(county, client):
    from django.urls import reverse

    from kaoping.periods.services import period_post

    scheme = _load(county, docs_example("tiebreak-example"))
    jia, yi, bing, ding = _four(county)
    _close(_open(scheme, "2026-02", _entries([jia, yi, bing, ding], FEBRUARY)))
    march = _close(_open(scheme, "2026-03", _entries([jia, yi, bing, ding], MARCH)))
    period_post(period=march, acting_user=system_actor())
    page = client.get(reverse("portal:posting", args=[march.pk])).content.decode()
    assert "并列第1名,按环境整治上榜" in page
    assert "并列倒数第1名,按上期名次上榜" in page
