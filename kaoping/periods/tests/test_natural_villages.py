"""Natural villages (自然村 / 村民小组) as docs/schemes.md §11 “自然村、村民小组” states them:
households ranked within their natural village (the ungrouped ones of a village together), and
natural villages scored as subjects; the worked examples close to their stated numbers."""

from datetime import date

import pytest

from kaoping.accounts.scoping import system_actor
from kaoping.core.errors import KaopingError
from kaoping.people.models import Household, Person, Subject
from kaoping.people.natural_villages import (
    household_natural_village_set,
    natural_village_groups,
    natural_village_save,
)
from kaoping.periods.models import ListMembership, Result
from kaoping.periods.services import period_close, period_open
from kaoping.regions.selectors import rank_group_labels
from kaoping.schemes.loader import SchemeError, load_scheme_text
from kaoping.schemes.services import scheme_load

from .scheme_fixture import docs_example, record

pytestmark = pytest.mark.django_db

DONGLING = "330304001001"


def _groups(county, user="carol") -> dict:
    """一组, 二组, 三组 of 东岭村, made by its secretary."""
    return {
        name: natural_village_save(
            village=county.region(DONGLING),
            acting_user=county.users[user],
            code=code,
            name=name,
            kind="group",
        )
        for code, name in (("01", "一组"), ("02", "二组"), ("03", "三组"))
    }


def _household(county, number: str, head: str) -> Household:
    grid = county.region("330304001001002")
    household = Household.objects.create(region=grid, number=number)
    household.head = Person.objects.create(household=household, region=grid, name=head)
    household.save(update_fields=["head"])
    return household


def _load(county, code: str):
    version, _created = scheme_load(
        text=docs_example(code),
        filename="docs.yaml",
        region=county.region("330304"),
        acting_user=system_actor(),
    )
    return version.scheme


def _close(scheme):
    period = period_open(scheme=scheme, label="2026-03", acting_user=system_actor())
    period_close(period=period, acting_user=system_actor())
    return period


def _lists(period) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for code, subject_id in ListMembership.objects.filter(period=period).values_list(
        "list_code", "subject_id"
    ):
        found.setdefault(code, set()).add(subject_id)
    return found


def test_the_household_example_ranks_within_natural_villages(county):
    groups = _groups(county)
    households = list(county.households.values())  # 0001–0004 东岭村, 0005–6 南山, 0007–8 西溪
    wu = _household(county, "3303040010019001", "戊某")
    gui = _household(county, "3303040010019002", "癸某")
    jia, yi, bing, ding, ji, geng, xin, ren = households
    carol = county.users["carol"]
    for household, group in (
        (jia, "一组"),
        (yi, "一组"),
        (bing, "二组"),
        (ding, "二组"),
        (wu, "三组"),
    ):
        household_natural_village_set(
            household=household, natural_village=groups[group], acting_user=carol
        )
    scheme = _load(county, "natural-village-example")
    subject = {
        h.number: Subject.objects.get(kind="household", household=h)
        for h in (jia, yi, bing, ding, wu, gui, ji, geng, xin, ren)
    }
    on = date(2026, 3, 10)
    for household, cleans, mess in (
        (jia, 3, 0),
        (yi, 1, 0),
        (bing, 2, 0),
        (ding, 2, 0),
        (wu, 4, 1),
        (ji, 1, 0),
        (xin, 1, 0),
    ):
        record(scheme, subject[household.number], "WS", str(cleans), on=on)
        if mess:
            record(scheme, subject[household.number], "WG", str(mess), on=on)
    period = _close(scheme)
    scale = period.version.scale
    results = {
        r.subject_id: (r.total // scale, r.rank, r.rank_group)
        for r in Result.objects.filter(period=period)
    }
    one, two, three = (f"{DONGLING}/{c}" for c in ("01", "02", "03"))
    expected = {
        jia: (130, 1, one),
        yi: (110, 2, one),
        bing: (120, 1, two),
        ding: (120, 1, two),
        wu: (125, 1, three),
        gui: (100, 1, DONGLING),
        ji: (110, 1, "330304001002"),
        geng: (100, 2, "330304001002"),
        xin: (110, 1, "330304002001"),
        ren: (100, 2, "330304002001"),
    }
    assert results == {subject[h.number].pk: value for h, value in expected.items()}
    lists = _lists(period)
    red = {jia, bing, ding, wu, gui, ji, xin}
    assert lists["zuhong"] == {subject[h.number].pk for h in red}
    assert lists["cunqian"] == {subject[h.number].pk for h in (jia, wu, ji, geng, xin, ren)}
    # The groups are shown by name; a village's ungrouped households by the village's.
    assert rank_group_labels([one, two, DONGLING]) == {one: "一组", two: "二组", DONGLING: "东岭村"}
    # The Python statement of the groups (pairings read it) agrees with the close.
    assert natural_village_groups(results) == {s: g for s, (_t, _r, g) in results.items()}


def test_the_natural_village_example_scores_them_as_subjects(county):
    groups = _groups(county)
    scheme = _load(county, "natural-village-subject-example")
    subject = {
        name: Subject.objects.get(kind="natural_village", natural_village=natural)
        for name, natural in groups.items()
    }
    assert {s.name for s in subject.values()} == {"东岭村一组", "东岭村二组", "东岭村三组"}
    on = date(2026, 3, 10)
    record(scheme, subject["一组"], "ZZ", "2", on=on)
    record(scheme, subject["二组"], "ZZ", "1", on=on)
    record(scheme, subject["三组"], "ZZ", "2", on=on)
    record(scheme, subject["三组"], "JF", "1", on=on)
    period = _close(scheme)
    scale = period.version.scale
    results = {
        r.subject_id: (r.total // scale, r.rank, r.rank_group)
        for r in Result.objects.filter(period=period)
    }
    assert results == {
        subject["一组"].pk: (40, 1, DONGLING),
        subject["三组"].pk: (30, 2, DONGLING),
        subject["二组"].pk: (20, 3, DONGLING),
    }
    assert _lists(period) == {"huangqi": {subject["二组"].pk}}


def test_a_new_natural_village_becomes_a_subject_at_the_next_close_and_a_rename_follows(county):
    _groups(county)
    scheme = _load(county, "natural-village-subject-example")
    carol = county.users["carol"]
    fourth = natural_village_save(
        village=county.region(DONGLING), acting_user=carol, code="04", name="四组", kind="group"
    )
    period = _close(scheme)
    made = Subject.objects.get(kind="natural_village", natural_village=fourth)
    assert Result.objects.filter(period=period, subject=made).exists()
    natural_village_save(
        village=county.region(DONGLING),
        acting_user=carol,
        natural_village=fourth,
        name="后岙自然村",
        kind="natural",
    )
    made.refresh_from_db()
    assert made.name == "东岭村后岙自然村"
    fourth.refresh_from_db()
    assert (fourth.code, fourth.kind) == ("04", "natural")


def test_within_natural_village_is_for_households_only():
    text = docs_example("natural-village-subject-example").replace(
        "  within: village", "  within: natural_village"
    )
    with pytest.raises(SchemeError, match="within"):
        load_scheme_text(text)
    listed = docs_example("natural-village-subject-example").replace(
        "count: 1}", "count: 1, within: natural_village}"
    )
    with pytest.raises(SchemeError, match="within"):
        load_scheme_text(listed)


def test_who_keeps_natural_villages_and_what_is_refused(county):
    from kaoping.accounts.scoping import Refused

    village = county.region(DONGLING)
    groups = _groups(county, user="bob")  # the township may too
    # A grid member keeps households, not the village's groups.
    with pytest.raises(Refused):
        natural_village_save(
            village=village, acting_user=county.users["dave"], code="09", name="九组", kind="group"
        )
    # Another village's secretary cannot reach them.
    with pytest.raises(Refused):
        natural_village_save(
            village=county.region("330304002001"),
            acting_user=county.users["carol"],
            code="01",
            name="一组",
            kind="group",
        )
    with pytest.raises(KaopingError) as refused:
        natural_village_save(
            village=village, acting_user=county.users["carol"], code="01", name="一组", kind="x"
        )
    assert set(refused.value.message_dict) == {"code", "name", "kind"}
    with pytest.raises(KaopingError):
        natural_village_save(
            village=village,
            acting_user=county.users["carol"],
            code="0 1",
            name="新组",
            kind="group",
        )
    # A household of another village cannot be put in 东岭村's groups.
    nanshan = county.households["3303040010020005"]
    with pytest.raises(KaopingError) as wrong:
        household_natural_village_set(
            household=nanshan, natural_village=groups["一组"], acting_user=county.users["alice"]
        )
    assert "natural_village" in wrong.value.message_dict
    # The grid member puts a household of their grid in a group, and takes it out again.
    mine = county.households["3303040010010001"]
    dave = county.users["dave"]
    household_natural_village_set(household=mine, natural_village=groups["二组"], acting_user=dave)
    assert Household.objects.get(pk=mine.pk).natural_village == groups["二组"]
    household_natural_village_set(household=mine, natural_village=None, acting_user=dave)
    assert Household.objects.get(pk=mine.pk).natural_village is None
