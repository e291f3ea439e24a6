"""The demo step `build_election`: the Ouhai round in mid-course, built once for the module on a
small county (without scores: the step does not need them)."""

from collections import Counter
from datetime import date, timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from kaoping.accounts.models import Role
from kaoping.accounts.scoping import system_actor
from kaoping.demo.election import (
    KEY_VILLAGES,
    POLICE_LOGIN,
    POLICE_NAME,
    UNFIT_SHEETS,
    _weekly_reports,
    build_election,
)
from kaoping.demo.generator import DEMO_LOGINS, DEMO_PASSWORD, STEPS, Build
from kaoping.demo.reports import build_reports
from kaoping.demo.reset import wipe_all
from kaoping.election.board import AMBER, GREEN, NONE, RED, board, village_rows
from kaoping.election.models import (
    ElectionRound,
    Finding,
    HelpVisit,
    PersonSheet,
    Qualification,
    StageReached,
    Talk,
    TalkCategory,
    TeamMember,
    VillageFile,
    VillageIssue,
)
from kaoping.election.services import talk_record
from kaoping.election.spec import spec_of
from kaoping.inbox.models import Message
from kaoping.people.models import PartyMember, Person
from kaoping.regions.models import Department, Region
from kaoping.reports.models import Report

SMALL = 1500
pytestmark = pytest.mark.django_db  # sets up the test database; each test's writes roll back


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        name = str(connection.settings_dict["NAME"])
        assert "test" in name or "memory" in name, f"not a test database: {name}"
        out = StringIO()
        call_command(
            "demo", "--households", str(SMALL), "--without-scores", "--rebuild", stdout=out
        )
        try:
            yield out.getvalue()
        finally:
            wipe_all()


@pytest.fixture
def round_(built):
    return ElectionRound.objects.select_related("county").get()


def user(username: str):
    return get_user_model().objects.get(username=username)


def test_the_step_comes_after_the_reports_and_commits_as_it_goes():
    assert STEPS.index(build_election) > STEPS.index(build_reports)
    assert build_election.manages_transactions
    assert "police" in DEMO_LOGINS


def test_a_file_for_every_village_with_stages_reached(round_):
    villages = Region.objects.filter(level="village", code__startswith="330304")
    files = VillageFile.objects.filter(round=round_)
    assert files.count() == villages.count() == 190
    today = timezone.localdate()
    spec = spec_of(round_)
    due = {s.code: s.due for s in spec.stages}
    reached = list(StageReached.objects.filter(file__round=round_))
    assert all(r.reached_on <= today for r in reached)
    late = sum(r.reached_on > due[r.stage] for r in reached)
    assert 0 < late < 0.2 * len(reached)  # most on time, some late
    # Stages follow their order in every file, and the file's stage is the furthest reached.
    order = [s.code for s in spec.stages]
    for file in files.prefetch_related("stages"):
        codes = [r.stage for r in sorted(file.stages.all(), key=lambda r: order.index(r.stage))]
        assert codes == order[: len(codes)]
        assert file.stage == (codes[-1] if codes else "")
        days = [r.reached_on for r in sorted(file.stages.all(), key=lambda r: order.index(r.stage))]
        assert days == sorted(days)


def test_seventeen_key_villages_with_their_team_plan_and_visits(round_):
    spec = spec_of(round_)
    key = VillageFile.objects.filter(round=round_, is_key=True).select_related("village")
    assert key.count() == KEY_VILLAGES
    roles = [r.code for r in spec.team_roles]
    for file in key:
        team = TeamMember.objects.filter(file=file)
        assert sorted(team.values_list("role", flat=True)) == sorted(roles) and len(roles) == 6
        assert all(2 <= len(m.name) <= 4 and len(m.phone) == 11 for m in team)
        assert file.paired_department.villages.filter(pk=file.village_id).exists()
        assert file.paired_department.name in file.help_plan
        visits = HelpVisit.objects.filter(file=file).order_by("visited_on")
        assert visits.count() >= 3
        assert visits[0].visited_on <= date(visits[0].visited_on.year, 4, 30)
        assert {v.department_id for v in visits} == {file.paired_department_id}
    assert not VillageFile.objects.filter(round=round_, is_key=False).exclude(help_plan="").exists()
    # The `dept` login's department helps a key village; the township login's township has it.
    dept = user("dept").role_assignments.get().department
    mine = key.filter(paired_department=dept)
    assert mine.exists()
    assert mine.first().village.code.startswith(user("township").role_assignments.get().region.code)


def test_about_two_thousand_sheets_with_all_three_results(round_):
    sheets = PersonSheet.objects.filter(round=round_)
    assert 1800 <= sheets.count() <= 2200
    assert sheets.filter(is_incumbent=True).exists() and sheets.filter(is_incumbent=False).exists()
    results = Counter(sheets.values_list("qualification", flat=True))
    assert results[Qualification.UNFIT] == UNFIT_SHEETS
    assert 10 <= results[Qualification.PENDING] <= 60
    assert results[Qualification.PASS] == sheets.count() - UNFIT_SHEETS - results["pending"]
    conditions = spec_of(round_).conditions
    departments = {
        d.code: d for d in Department.objects.filter(code__in={c.department for c in conditions})
    }
    for sheet in sheets.filter(qualification=Qualification.UNFIT):
        (hit,) = Finding.objects.filter(sheet=sheet, hit=True)
        named = next(c for c in conditions if c.code == hit.condition)
        assert hit.department == departments[named.department]
        assert departments[named.department].name in sheet.qualification_reason
        assert not sheet.intended  # left off the list of intended candidates
    for sheet in sheets.filter(qualification=Qualification.PENDING)[:10]:
        answered = set(Finding.objects.filter(sheet=sheet).values_list("condition", flat=True))
        assert answered < {c.code for c in conditions}
    # A candidate lives in the village of the sheet, and is an adult.
    for sheet in sheets.filter(is_incumbent=False).select_related("person__region")[:200]:
        assert sheet.person.region.parent_id == sheet.village_id
        assert sheet.person.birth_date < date(2001, 1, 1)


def test_intended_candidates_and_one_shoulder_intention(round_):
    files = VillageFile.objects.filter(round=round_)
    assert 150 <= files.filter(one_shoulder_intended=True).count() < 190
    intended = PersonSheet.objects.filter(round=round_, intended=True)
    per_village = Counter(intended.values_list("village_id", flat=True))
    assert len(per_village) == 190 and min(per_village.values()) >= 2
    for file in files.filter(one_shoulder_intended=True)[:30]:
        assert intended.filter(village=file.village, one_shoulder_intended=True).count() == 1


def test_talks_by_name_meet_the_rule_in_most_villages_but_not_all(round_):
    for talk in Talk.objects.filter(file__round=round_).select_related("person__region", "file")[
        :300
    ]:
        assert talk.person.name == talk.person_name
        assert talk.person.region.parent_id == talk.file.village_id
    members = Talk.objects.filter(file__round=round_, category=TalkCategory.PARTY_MEMBER)
    assert set(members.values_list("person_id", flat=True)) <= set(
        PartyMember.objects.values_list("person_id", flat=True)
    )
    rows = village_rows(round_, VillageFile.objects.all(), today=timezone.localdate())
    coverage = Counter(row.indicators["talk_coverage"].colour for row in rows)
    assert coverage[GREEN] > 0.6 * len(rows) and coverage[AMBER] and coverage[RED]


def test_issues_cleared_open_and_past_deadline(round_):
    spec = spec_of(round_)
    issues = VillageIssue.objects.filter(file__round=round_)
    assert set(issues.values_list("kind", flat=True)) <= set(spec.list_names())
    assert issues.filter(status="done").count() > issues.filter(status="open").count() > 0
    today = timezone.localdate()
    assert issues.filter(status="open", deadline__lt=today).exists()
    assert issues.filter(status="open", deadline__gte=today).exists()
    assert not issues.filter(status="done", done_on__isnull=True).exists()


def test_the_board_shows_red_amber_and_green(round_):
    today = timezone.localdate()
    county = user("county")
    rows, total = board(round_, user=county, region=round_.county, today=today)
    assert len(rows) == 13 and total.villages == 190
    assert total.red_villages and total.amber_villages and total.green_villages
    assert total.green_villages > total.red_villages
    township = user("township").role_assignments.get().region
    villages, _total = board(round_, user=user("township"), region=township, today=today)
    assert villages and {row.region.parent_id for row in villages} == {township.pk}
    stage = Counter(
        row.indicators["stage_progress"].colour
        for row in village_rows(round_, VillageFile.objects.all(), today=today)
    )
    assert stage[GREEN] > 150 and stage[RED] + stage[AMBER] > 0


def _only(row, colour: str) -> list[str]:
    return [code for code, i in row.indicators.items() if i.colour == colour]


def test_the_township_login_watches_a_village_go_from_red_to_amber_by_its_talks(built, round_):
    """The acceptance scenario as the `township` persona: its township has a 村社 red only
    because of its talks (everything else green or not applicable yet) and one amber only
    because of them; the step's output names both; recording talks up to the amber threshold
    turns the red one amber."""
    today = timezone.localdate()
    township_user = user("township")
    township = township_user.role_assignments.get().region
    rows, _total = board(round_, user=township_user, region=township, today=today)
    red = [r for r in rows if r.colour == RED and _only(r, RED) == ["talk_coverage"]]
    amber = [r for r in rows if r.colour == AMBER and _only(r, AMBER) == ["talk_coverage"]]
    assert red and amber
    row = red[0]
    assert {i.colour for c, i in row.indicators.items() if c != "talk_coverage"} <= {GREEN, NONE}
    assert row.region.name in built and amber[0].region.name in built
    assert f"{row.region.name} ({row.region.code}) red by its talks alone" in built

    file = VillageFile.objects.get(round=round_, village=row.region)
    party = set(
        PartyMember.objects.filter(region=row.region).values_list("person__name", flat=True)
    )
    people = set(Person.objects.filter(region__parent=row.region).values_list("name", flat=True))
    # The secretary's next talks: party members first, then representatives and key persons.
    todo = []
    for category, pool, total in (
        (TalkCategory.PARTY_MEMBER, party, file.party_members_total),
        (TalkCategory.REPRESENTATIVE, people - party, file.representatives_total),
        (TalkCategory.KEY_PERSON, people - party, file.key_persons_total),
    ):
        held = set(file.talks.filter(category=category).values_list("person_name", flat=True))
        todo += [(category, name) for name in sorted(pool - held)[: total - len(held)]]
    threshold = spec_of(round_).threshold("talk_coverage").amber
    coverage, now = row.indicators["talk_coverage"], row
    for category, name in todo:
        talk_record(
            file=file,
            category=category,
            person_name=name,
            held_on=today,
            acting_user=township_user,
        )
        (now,) = village_rows(round_, VillageFile.objects.filter(pk=file.pk), today=today)
        coverage = now.indicators["talk_coverage"]
        if coverage.value >= threshold:
            break
        assert now.colour == RED
    assert coverage.colour == AMBER and now.colour == AMBER


def test_the_police_login_answers_conditions_and_sees_its_hit(round_):
    police = user(POLICE_LOGIN)
    # Built by the module's fixture, before the tests' quick hasher is set: checked directly.
    assert Argon2PasswordHasher().verify(DEMO_PASSWORD, police.password)
    assignment = police.role_assignments.get()
    assert assignment.role == Role.DEPARTMENT_SCORER
    assert assignment.department.name == POLICE_NAME
    assert assignment.department.code in {c.department for c in spec_of(round_).conditions}
    findings = Finding.objects.filter(department=assignment.department)
    assert findings.filter(hit=True).exists()
    assert set(findings.values_list("recorded_by", flat=True)) == {police.pk}


def test_the_step_runs_once(round_):
    before = (PersonSheet.objects.count(), Finding.objects.count(), Talk.objects.count())
    build_election(Build(households=SMALL, scores=False))
    assert ElectionRound.objects.count() == 1
    assert (PersonSheet.objects.count(), Finding.objects.count(), Talk.objects.count()) == before


def test_the_rerun_of_the_command_changes_nothing(built, round_):
    before = (VillageFile.objects.count(), Finding.objects.count(), Department.objects.count())
    out = StringIO()
    call_command("demo", "--households", str(SMALL), "--without-scores", stdout=out)
    assert "demo county already exists" in out.getvalue() and POLICE_LOGIN in out.getvalue()
    after = (VillageFile.objects.count(), Finding.objects.count(), Department.objects.count())
    assert after == before


def test_two_past_weekly_reports_reach_the_township_and_the_department(round_):
    today = timezone.localdate()
    assert _weekly_reports(Build(households=SMALL), round_, today, system_actor()) == 4
    monday = today - timedelta(days=today.weekday())
    for username in ("township", "dept"):
        messages = Message.objects.filter(recipient=user(username), kind="report")
        weekly = [m for m in messages if m.dedupe_key.startswith("election-weekly:")]
        assert len(weekly) == 2
        assert all(m.attachment_name.endswith(".pdf") for m in weekly)
    labels = set(Report.objects.filter(election_round=round_).values_list("label", flat=True))
    weeks = {(monday - timedelta(weeks=n)).isocalendar()[:2] for n in (1, 2)}
    assert labels == {f"{year}-W{week:02d}" for year, week in weeks}
