"""Inspection sampling (docs/schemes.md §5 “随机抽查”): the worked example closes to its numbers,
draws are replayable and fixed, and only an inspector from above records, inside the draw."""

import hashlib
import html
import re
from decimal import Decimal

import pytest
from django.db import transaction

from kaoping.accounts.scoping import Refused, system_actor
from kaoping.core.errors import KaopingError
from kaoping.inspections.models import Draw, DrawResult
from kaoping.inspections.selectors import sub_unit_numbers
from kaoping.inspections.services import draw_make, results_record
from kaoping.ledger.models import MetricValue
from kaoping.people.models import Household
from kaoping.periods.models import Result
from kaoping.periods.selectors import period_close_preview
from kaoping.periods.services import period_close, period_open
from kaoping.periods.tests.scheme_fixture import docs_example
from kaoping.schemes.loader import load_scheme_text
from kaoping.schemes.models import METRIC_SCALE
from kaoping.schemes.sampling import draw_members
from kaoping.schemes.spec import SchemeError
from kaoping.testing import period_make_final

from .helpers import SEED, grow_villages, sampling_scheme

pytestmark = pytest.mark.django_db

LABEL = "2026-03"


def _draw(scheme, subject, user, seed=SEED):
    with transaction.atomic():
        return draw_make(
            scheme=scheme,
            period_label=LABEL,
            subject=subject,
            item_code="RJ",
            acting_user=user,
            seed=seed,
        )


def _record(draw, user, results):
    with transaction.atomic():
        return results_record(draw=draw, results=results, acting_user=user)


def test_the_docs_example_closes_to_its_numbers(county):
    scheme = sampling_scheme(county)
    dongling, nanshan, xixi = grow_villages(county).values()
    bob, alice = county.users["bob"], county.users["alice"]
    draws = [_draw(scheme, dongling, bob), _draw(scheme, nanshan, bob), _draw(scheme, xixi, alice)]
    # N and n as the example states: 58 → 5.8 → 6; 23 → 2.3 → 3 → at least 5; 3 → at most N.
    assert [(d.population_size, d.size) for d in draws] == [(58, 6), (23, 5), (3, 3)]
    for d in draws:
        numbers = sub_unit_numbers(d.subject, "household")
        assert d.population == numbers
        assert d.members == draw_members(SEED, numbers, d.size)
        assert d.seed == SEED
    first, second, third = draws
    _record(first, bob, {m: ("合格", "") for m in first.members[:5]})
    _record(first, bob, {first.members[5]: ("不合格", "门前堆放杂物")})
    _record(second, bob, {m: ("合格", "") for m in second.members})
    _record(third, alice, {third.members[0]: ("合格", ""), third.members[1]: ("基本合格", "")})

    period = period_open(scheme=scheme, label=LABEL, acting_user=system_actor())
    notes = period_close_preview(period=period).notes
    assert len(notes) == 2 and "西溪村 2/3" in notes[0]
    assert "东岭村、南山社区、西溪村" in notes[1]  # their figures come at the close
    period_close(period=period, acting_user=system_actor())

    figures = dict(
        MetricValue.objects.filter(
            scheme=scheme, period_label=LABEL, metric="living_env_pass_rate"
        ).values_list("subject_id", "value_scaled")
    )
    assert figures == {
        dongling.pk: int(Decimal("83.3333") * METRIC_SCALE),
        nanshan.pk: 100 * METRIC_SCALE,
        xixi.pk: 50 * METRIC_SCALE,
    }
    version = scheme.latest_version()
    totals = {
        r.subject_id: version.to_points(r.total) for r in Result.objects.filter(period=period)
    }
    # 10 − 0.5 × 6.6667 = 6.67 → 6.7; 15 held at max 10; −10 held at floor 0.
    assert totals == {dongling.pk: Decimal("6.7"), nanshan.pk: Decimal(10), xixi.pk: Decimal(0)}


def test_a_unit_without_results_has_no_figure_and_the_close_says_so(county):
    scheme = sampling_scheme(county)
    dongling, nanshan, _xixi = grow_villages(county).values()
    drawn = _draw(scheme, dongling, county.users["bob"])
    _record(drawn, county.users["bob"], {m: ("合格", "") for m in drawn.members})
    _draw(scheme, nanshan, county.users["bob"])  # drawn, nothing recorded
    period = period_open(scheme=scheme, label=LABEL, acting_user=system_actor())
    notes = period_close_preview(period=period).notes
    assert any("南山社区 0/5" in note for note in notes)
    assert any("南山社区、西溪村" in note for note in notes)
    period_close(period=period, acting_user=system_actor())
    assert set(
        MetricValue.objects.filter(scheme=scheme, period_label=LABEL).values_list(
            "subject_id", flat=True
        )
    ) == {dongling.pk}
    totals = {r.subject_id: r.total for r in Result.objects.filter(period=period)}
    assert totals[nanshan.pk] == 0


def test_a_draw_is_made_once_and_kept_as_drawn(county):
    scheme = sampling_scheme(county)
    dongling = grow_villages(county)["330304001001"]
    first = _draw(scheme, dongling, county.users["bob"])
    Household.objects.create(region=county.region("330304001001"), number="330304001001X")
    again = _draw(scheme, dongling, county.users["alice"], seed="another")
    assert again.pk == first.pk
    assert (again.seed, again.members, again.population_size) == (SEED, first.members, 58)
    assert Draw.objects.count() == 1


def test_without_a_seed_one_is_drawn_and_kept(county):
    scheme = sampling_scheme(county)
    dongling = grow_villages(county)["330304001001"]
    drawn = _draw(scheme, dongling, county.users["bob"], seed="")
    assert re.fullmatch(r"[0-9a-f]{32}", drawn.seed)
    assert drawn.members == draw_members(drawn.seed, drawn.population, drawn.size)


@pytest.mark.parametrize("persona", ["carol", "clara", "dave", "grace"])
def test_a_village_does_not_inspect_itself(county, persona):
    scheme = sampling_scheme(county)
    dongling = grow_villages(county)["330304001001"]
    with pytest.raises(Refused):
        _draw(scheme, dongling, county.users[persona])
    assert not Draw.objects.exists()


def test_out_of_the_area_is_refused(county):
    scheme = sampling_scheme(county)
    xixi = grow_villages(county)["330304002001"]
    with pytest.raises(Refused):
        _draw(scheme, xixi, county.users["bob"])  # 西溪村 is in 西溪镇, not bob's 东岭街道


def test_results_outside_the_draw_or_the_levels_are_refused_and_nothing_is_written(county):
    scheme = sampling_scheme(county)
    dongling = grow_villages(county)["330304001001"]
    drawn = _draw(scheme, dongling, county.users["bob"])
    outside = next(n for n in drawn.population if n not in drawn.members)
    with pytest.raises(KaopingError) as refused:
        _record(
            drawn,
            county.users["bob"],
            {drawn.members[0]: ("合格", ""), outside: ("合格", ""), drawn.members[1]: ("优秀", "")},
        )
    assert set(refused.value.message_dict) == {f"m_{outside}", f"m_{drawn.members[1]}"}
    assert not DrawResult.objects.exists()
    with pytest.raises(Refused):
        _record(drawn, county.users["carol"], {drawn.members[0]: ("合格", "")})


def test_results_are_changed_until_the_period_is_final(county):
    scheme = sampling_scheme(county)
    dongling = grow_villages(county)["330304001001"]
    drawn = _draw(scheme, dongling, county.users["bob"])
    member = drawn.members[0]
    assert _record(drawn, county.users["bob"], {member: ("不合格", "")}) == 1
    assert _record(drawn, county.users["bob"], {member: ("合格", "")}) == 1
    assert _record(drawn, county.users["bob"], {member: ("合格", "")}) == 0  # unchanged
    assert DrawResult.objects.get().level == "合格"
    period = period_open(scheme=scheme, label=LABEL, acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    period_make_final(period)
    with pytest.raises(KaopingError):
        _record(drawn, county.users["bob"], {member: ("不合格", "")})
    assert DrawResult.objects.get().level == "合格"


def test_an_auditor_replays_the_draw_from_its_page(county, client_for):
    scheme = sampling_scheme(county)
    dongling = grow_villages(county)["330304001001"]
    drawn = _draw(scheme, dongling, county.users["bob"], seed="")
    page = client_for(county, "alice").get(f"/inspections/draws/{drawn.pk}/").content.decode()
    code = html.unescape(re.search(r'<pre id="replay-code">(.*?)</pre>', page, re.S).group(1))
    scope = {}
    exec(code.replace("print(drawn)", ""), scope)  # the page's own lines, run as an auditor would
    assert scope["drawn"] == drawn.members
    # …and by hand, from the rule the page states.
    keys = {n: hashlib.sha256(f"{drawn.seed}:{n}".encode()).hexdigest() for n in drawn.population}
    assert drawn.members == sorted(drawn.population, key=keys.get)[: drawn.size]


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("      rounding: up\n", ""), 14, "rounding"),
        (
            ("      rounding: up\n", "      rounding: up\n      count: 3\n"),
            14,
            "必须写且只能写一个",
        ),
        (("pass: [合格]", "pass: [好]"), 20, "不在 levels 中"),
        (("min: 5", "min: 5\n      max: 2"), 18, "min 不能大于 max"),
        (("measure: pass_rate", "measure: mean"), 20, "measure: mean 不写"),
        (("      pass: [合格]\n", ""), 14, "需要写 pass:"),
        (("subject_kind: village", "subject_kind: cadre"), 15, "不能抽取 of: household"),
        (("share: 0.1", "share: 1.5"), 16, ""),
    ],
)
def test_the_checks_name_the_line(change, line, words):
    text = docs_example("sampling-example").replace(*change)
    with pytest.raises(SchemeError) as refused:
        load_scheme_text(text, filename="s.yaml")
    shown = str(refused.value)
    assert f"第 {line} 行" in shown and words in shown


def test_grids_are_drawn_from_a_village_not_from_a_grid():
    grids = docs_example("sampling-example").replace("of: household", "of: grid")
    assert load_scheme_text(grids, filename="s.yaml")
    with pytest.raises(SchemeError) as refused:
        load_scheme_text(
            grids.replace("subject_kind: village", "subject_kind: grid"), filename="s.yaml"
        )
    assert "不能抽取 of: grid" in str(refused.value)
