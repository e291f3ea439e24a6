"""The board's numbers (election/board.py) on hand-made data: the definitions, the colours at
their thresholds, township sums, the scopes and the number of queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kaoping.accounts.scoping import system_actor
from kaoping.election.board import (
    aggregate,
    board,
    colour_of,
    indicator,
    open_rounds,
    village_rows,
)
from kaoping.election.models import (
    ElectionRound,
    HelpVisit,
    PersonSheet,
    Qualification,
    RoundStatus,
    StageReached,
    Talk,
    TalkCategory,
    VillageFile,
    VillageIssue,
)
from kaoping.election.spec import spec_of
from kaoping.election.testing import election_world
from kaoping.regions.models import Region

SEPT = date(2026, 9, 15)  # only 调研摸底 is due; 东岭村's issue (deadline 10-15) not yet late


@pytest.fixture
def ew(county):
    return election_world(county)


def _talk(file, category, name, day=date(2026, 9, 2)):
    Talk.objects.create(
        file=file, category=category, person_name=name, held_on=day, held_by=system_actor()
    )


def _row(ew, today=SEPT):
    rows = village_rows(ew.round, VillageFile.objects.filter(pk=ew.file.pk), today=today)
    assert len(rows) == 1
    return rows[0]


def _values(row):
    return {code: (i.value, i.colour) for code, i in row.indicators.items()}


def test_village_definitions(ew):
    row = _row(ew)
    assert row.file_id == ew.file.pk and row.stage_name == "调研摸底"
    assert _values(row) == {
        "stage_progress": (Decimal("100.0"), "green"),  # survey due and reached
        # required: party 1, representatives ⌈5 × 60 %⌉ = 3, key persons 2; talked: 1 party.
        "talk_coverage": (Decimal("16.7"), "red"),
        "qualification_progress": (Decimal("0.0"), "red"),  # 王建国 待核
        "intent_rate": (None, "none"),
        "first_success_rate": (None, "none"),
        "one_shoulder_rate": (Decimal("0.0"), "red"),  # the file does not intend it
        "open_issues": (Decimal(0), "green"),
    }
    assert row.indicators["talk_coverage"].numerator == 1
    assert row.indicators["talk_coverage"].denominator == 6
    assert row.colour == "red" and row.red_villages == 1 and row.villages == 1


def test_later_in_the_round(ew):
    # 10-20: survey and analysis due, only survey reached; the issue is five days late.
    row = _row(ew, today=date(2026, 10, 20))
    assert row.indicators["stage_progress"].value == Decimal("50.0")
    assert row.indicators["stage_progress"].colour == "red"
    assert row.indicators["open_issues"].value == 1
    assert row.indicators["open_issues"].colour == "amber"
    # On its deadline day an issue is not late yet; a cleared one never is.
    assert _row(ew, today=date(2026, 10, 15)).indicators["open_issues"].value == 0
    ew.issue.status = "done"
    ew.issue.save()
    assert _row(ew, today=date(2026, 10, 20)).indicators["open_issues"].value == 0


def test_before_the_first_deadline_stage_progress_is_not_applicable(ew):
    row = _row(ew, today=date(2026, 8, 1))
    assert row.indicators["stage_progress"].value is None
    assert row.indicators["stage_progress"].colour == "none"


def test_results_after_election_day(ew):
    ew.file.one_shoulder_intended = True
    ew.file.save()
    assert _row(ew).indicators["one_shoulder_rate"].value == Decimal("100.0")  # intended
    ew.file.first_time_success = True
    ew.file.intent_realised = False
    ew.file.one_shoulder_done = False  # intended, not achieved: the result counts now
    ew.file.save()
    values = _values(_row(ew))
    assert values["first_success_rate"] == (Decimal("100.0"), "green")
    assert values["intent_rate"] == (Decimal("0.0"), "red")
    assert values["one_shoulder_rate"] == (Decimal("0.0"), "red")


def test_village_turns_from_red_to_amber_when_its_talks_reach_the_threshold(ew):
    ew.sheet.qualification = Qualification.PASS
    ew.sheet.save()
    ew.file.one_shoulder_intended = True
    ew.file.save()
    assert _row(ew).colour == "red"
    for name in ("甲", "乙"):
        _talk(ew.file, TalkCategory.REPRESENTATIVE, name)
    assert _row(ew).indicators["talk_coverage"].value == Decimal("50.0")  # 3 of 6
    assert _row(ew).colour == "red"
    _talk(ew.file, TalkCategory.REPRESENTATIVE, "丙")
    row = _row(ew)
    assert row.indicators["talk_coverage"].value == Decimal("66.7")  # 4 of 6
    assert row.colour == "amber" and row.amber_villages == 1 and row.red_villages == 0
    # A fourth representative does not make up for the key persons.
    _talk(ew.file, TalkCategory.REPRESENTATIVE, "丁")
    assert _row(ew).indicators["talk_coverage"].value == Decimal("66.7")
    for name in ("戊", "己"):
        _talk(ew.file, TalkCategory.KEY_PERSON, name)
    assert _row(ew).colour == "green"


def test_colours_at_the_exact_thresholds(ew):
    spec = spec_of(ew.round)  # talk_coverage: green 100, amber 60; open_issues: 0 / 3 lower
    assert colour_of(Decimal("100.0"), "talk_coverage", spec) == "green"
    assert colour_of(Decimal("99.9"), "talk_coverage", spec) == "amber"
    assert colour_of(Decimal("60.0"), "talk_coverage", spec) == "amber"
    assert colour_of(Decimal("59.9"), "talk_coverage", spec) == "red"
    assert colour_of(Decimal(0), "open_issues", spec) == "green"
    assert colour_of(Decimal(1), "open_issues", spec) == "amber"
    assert colour_of(Decimal(3), "open_issues", spec) == "amber"
    assert colour_of(Decimal(4), "open_issues", spec) == "red"
    assert colour_of(None, "talk_coverage", spec) == "none"
    # Rounded half up to one decimal, then coloured: 59.95 % shows and counts as 60.0.
    assert indicator("talk_coverage", 1199, 2000, spec).value == Decimal("60.0")
    assert indicator("talk_coverage", 1199, 2000, spec).colour == "amber"
    assert indicator("talk_coverage", 1189, 2000, spec).value == Decimal("59.5")
    assert indicator("talk_coverage", 0, 0, spec).value is None


def test_township_aggregates_are_the_sums_of_their_villages(ew, county):
    nanshan = VillageFile.objects.get(round=ew.round, village__code="330304001002")
    nanshan.representatives_total = 10
    nanshan.save()
    for name in ("甲", "乙", "丙", "丁", "戊", "己", "庚"):
        _talk(nanshan, TalkCategory.REPRESENTATIVE, name)
    PersonSheet.objects.create(
        round=ew.round,
        person=county.persons["李秀英"],
        village=nanshan.village,
        qualification=Qualification.PASS,
        added_by=system_actor(),
    )
    alice = county.users["alice"]
    rows, total = board(ew.round, user=alice, region=county.region("330304"), today=SEPT)
    assert [r.region.code for r in rows] == ["330304001", "330304002"]
    dongling_jd = rows[0]
    villages = village_rows(
        ew.round,
        VillageFile.objects.filter(round=ew.round, village__code__startswith="330304001"),
        today=SEPT,
    )
    assert dongling_jd.villages == 2
    for code, ind in dongling_jd.indicators.items():
        assert ind.numerator == sum(v.indicators[code].numerator for v in villages), code
        assert ind.denominator == sum(v.indicators[code].denominator for v in villages), code
    # Talks: 东岭村 1 of 6, 南山社区 min(7, 6) of 6 → 7 of 12.
    assert dongling_jd.indicators["talk_coverage"].value == Decimal("58.3")
    assert dongling_jd.indicators["qualification_progress"].value == Decimal("50.0")
    assert dongling_jd.red_villages == sum(v.colour == "red" for v in villages)
    assert total.villages == 3
    assert total.red_villages + total.amber_villages + total.green_villages == 3
    for code, ind in total.indicators.items():
        assert ind.numerator == sum(r.indicators[code].numerator for r in rows), code
    # The same as aggregating the villages directly.
    again = aggregate(villages, region=dongling_jd.region, spec=spec_of(ew.round))
    assert again.indicators == dongling_jd.indicators


def test_drilling_down(ew, county):
    alice = county.users["alice"]
    rows, total = board(ew.round, user=alice, region=county.region("330304001"), today=SEPT)
    assert [r.region.name for r in rows] == ["东岭村", "南山社区"]
    assert rows[0].file_id == ew.file.pk and total.villages == 2
    rows, total = board(ew.round, user=alice, region=county.region("330304001001"), today=SEPT)
    assert rows == [] and total.file_id == ew.file.pk and total.villages == 1


def test_scope_bob_sees_only_his_township(ew, county):
    bob = county.users["bob"]
    rows, total = board(ew.round, user=bob, region=county.region("330304"), today=SEPT)
    assert [r.region.name for r in rows] == ["东岭街道"]
    assert total.villages == 2
    assert list(open_rounds(bob)) == [ew.round]


def test_scope_grace_sees_only_her_departments_villages(ew, county):
    # D01 covers 南山社区 and 西溪村 (Department.villages) and is 东岭村's paired department: its
    # villages are the three (access.department_files), and no other.
    grace = county.users["grace"]
    rows, total = board(ew.round, user=grace, region=county.region("330304"), today=SEPT)
    assert [(r.region.name, r.villages) for r in rows] == [("东岭街道", 2), ("西溪镇", 1)]
    assert total.villages == 3
    rows, total = board(ew.round, user=grace, region=county.region("330304001"), today=SEPT)
    assert [r.region.name for r in rows] == ["东岭村", "南山社区"]
    assert list(open_rounds(grace)) == [ew.round]
    assert list(open_rounds(county.users["erin"])) == []


def test_closed_rounds_are_not_offered(ew, county):
    ElectionRound.objects.filter(pk=ew.round.pk).update(status=RoundStatus.CLOSED)
    assert list(open_rounds(county.users["alice"])) == []


def _add_villages(ew, county, n):
    township = county.region("330304002")
    system = system_actor()
    for i in range(n):
        village = Region.objects.create(
            code=f"3303040020{i + 10:02d}",
            name=f"新村{i}",
            level="village",
            kind="村",
            parent=township,
        )
        f = VillageFile.objects.create(round=ew.round, village=village, representatives_total=3)
        StageReached.objects.create(
            file=f, stage="survey", reached_on=date(2026, 8, 1), recorded_by=system
        )
        _talk(f, TalkCategory.REPRESENTATIVE, "甲")
        VillageIssue.objects.create(
            file=f,
            kind="qingdi",
            title="问题",
            owner="某",
            deadline=date(2026, 9, 1),
            recorded_by=system,
        )


def _queries(ew, county):
    alice = county.users["alice"]
    alice = type(alice).objects.get(pk=alice.pk)  # no scopes cached yet
    region = county.region("330304")
    with CaptureQueriesContext(connection) as captured:
        rows, total = board(ew.round, user=alice, region=region, today=SEPT)
    return len(captured), total


def test_query_count_does_not_grow_with_the_villages(ew, county):
    few, total = _queries(ew, county)
    assert total.villages == 3
    _add_villages(ew, county, 9)
    many, total = _queries(ew, county)
    assert total.villages == 12
    assert total.indicators["open_issues"].value == 9
    assert many == few


# ─── the home page's to-dos (election/todos.py) ───


@pytest.fixture
def october(monkeypatch):
    from types import SimpleNamespace

    from kaoping.election import todos

    day = date(2026, 10, 20)  # survey and analysis due; 东岭村's issue five days late
    monkeypatch.setattr(todos, "timezone", SimpleNamespace(localdate=lambda: day))
    return day


def _todos(county, username):
    from django.utils import translation

    from kaoping.election.todos import home_todos

    user = county.users[username]
    with translation.override("en"):  # the titles as written in the code
        return {t.title: t for t in home_todos(type(user).objects.get(pk=user.pk))}


def test_township_todos(ew, county, october):
    todos = _todos(county, "bob")
    red = todos["2 villages in red on the election board"]
    assert red.urgent and red.count == 2 and red.url.endswith(f"?round={ew.round.pk}")
    assert todos["2 villages behind a stage whose deadline has passed"].count == 2
    assert todos["1 village issue past its deadline"].count == 1
    assert len(todos) == 3


def test_county_todos_count_every_village(ew, county, october):
    todos = _todos(county, "alice")
    assert todos["3 villages in red on the election board"].count == 3


def test_department_todos(ew, county, october):
    todos = _todos(county, "grace")
    # D01's villages are the board's three: 东岭村 (paired), 南山社区 and 西溪村 (covered); the
    # red ones count, and a visit is due only where it is paired (东岭村, visited in September).
    # The same three villages as on her board, all three in red in October.
    user = county.users["grace"]
    _rows, total = board(ew.round, user=user, region=county.region("330304"), today=october)
    assert (total.villages, total.red_villages) == (3, 3)
    red = todos["3 villages of your department in red"]
    assert red.count == 3 and red.urgent
    assert "1 paired village without a help visit this month" in todos and len(todos) == 2
    HelpVisit.objects.create(
        file=ew.file,
        department=county.department,
        visited_on=date(2026, 10, 2),
        recorded_by=county.users["grace"],
    )
    assert set(_todos(county, "grace")) == {red.title}


@pytest.mark.parametrize("username", ["carol", "oscar", "erin"])
def test_no_todos_for_village_roles(ew, county, october, username):
    assert _todos(county, username) == {}


def test_no_todos_once_the_round_is_closed(ew, county, october):
    ElectionRound.objects.filter(pk=ew.round.pk).update(status=RoundStatus.CLOSED)
    assert _todos(county, "bob") == {} and _todos(county, "grace") == {}


def test_todos_take_a_few_queries_whatever_the_villages(ew, county, october):
    from kaoping.election.todos import home_todos

    def count():
        user = type(county.users["alice"]).objects.get(pk=county.users["alice"].pk)
        with CaptureQueriesContext(connection) as captured:
            home_todos(user)
        return len(captured)

    few = count()
    _add_villages(ew, county, 9)
    assert count() == few
